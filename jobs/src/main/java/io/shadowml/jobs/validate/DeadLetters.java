package io.shadowml.jobs.validate;

import org.apache.flink.util.OutputTag;

import io.shadowml.avro.DeadLetter;

/** The side output every validating function sends rejected records to. */
public final class DeadLetters {
    public static final OutputTag<DeadLetter> TAG = new OutputTag<>("dead-letters") {};

    private DeadLetters() {}
}
