package io.shadowml.jobs.io;

import java.nio.ByteBuffer;
import java.time.Instant;

import io.shadowml.avro.DeadLetter;

/**
 * What a source yields for one Kafka record: the decoded value, or, when the bytes did not decode, a dead
 * letter that keeps the raw bytes and where they came from. Undecodable bytes travel on as data, so the
 * job never fails on them.
 */
public class Decoded<T> {
    /** The decoded record, or null when {@link #deadLetter} is set. */
    public T value;

    public DeadLetter deadLetter;
    /** Where the record came from, for a dead letter raised later (validation). */
    public String topic;

    public int partition;
    public long offset;
    /**
     * The source record's timestamp: the Kafka record timestamp, or for a file-based source the one the
     * replay tool would give the record. The job's time for records without an event time.
     */
    public long kafkaTimestamp;

    public byte[] raw;

    public Decoded() {}

    public static <T> Decoded<T> ok(T value, String topic, int partition, long offset, long timestamp, byte[] raw) {
        Decoded<T> d = new Decoded<>();
        d.value = value;
        d.topic = topic;
        d.partition = partition;
        d.offset = offset;
        d.kafkaTimestamp = timestamp;
        d.raw = raw;
        return d;
    }

    public static <T> Decoded<T> failed(
            String reason, String topic, int partition, long offset, long timestamp, byte[] key, byte[] raw) {
        Decoded<T> d = new Decoded<>();
        d.topic = topic;
        d.partition = partition;
        d.offset = offset;
        d.kafkaTimestamp = timestamp;
        d.deadLetter = deadLetter(reason, topic, partition, offset, timestamp, key, raw);
        return d;
    }

    /** A dead letter for this record with a reason found after decoding. */
    public DeadLetter reject(String reason) {
        return deadLetter(reason, topic, partition, offset, kafkaTimestamp, null, raw);
    }

    static DeadLetter deadLetter(
            String reason, String topic, int partition, long offset, long timestamp, byte[] key, byte[] raw) {
        return DeadLetter.newBuilder()
                .setSourceTopic(topic)
                .setPartition(partition)
                .setOffset(offset)
                .setKey(key == null ? null : ByteBuffer.wrap(key))
                .setRaw(raw == null ? null : ByteBuffer.wrap(raw))
                .setReason(reason)
                .setFailedAt(Instant.ofEpochMilli(timestamp))
                .build();
    }
}
