package io.shadowml.jobs.io.format;

import java.io.Serializable;

/** Builds one of the job's records from a decoded value tree and the Kafka record's key and timestamp. */
public interface RecordMapping extends Serializable {
    /** The record, or (a String) why the value is not one, naming the path. */
    Object map(Object root, byte[] key, long kafkaTimestamp);

    /** Whether a path reads the Kafka key or timestamp ($key, $timestamp), which records in files lack. */
    boolean readsKafkaAttributes();
}
