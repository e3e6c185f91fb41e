package io.shadowml.jobs.io.format;

import java.io.IOException;
import java.io.Serializable;

/** Turns a Kafka record value into a tree the mappings read: a Jackson node or an Avro generic record. */
public interface PayloadFormat extends Serializable {
    /**
     * The decoded value, or (a String) why the bytes are not a record of this format.
     *
     * @throws IOException only when the bytes cannot be judged now (the schema registry is unreachable):
     *     the record is not at fault, so it must not become a dead letter
     */
    Object read(byte[] value) throws IOException;

    /** For reasons: "JSON", "schema-registry Avro". */
    String name();
}
