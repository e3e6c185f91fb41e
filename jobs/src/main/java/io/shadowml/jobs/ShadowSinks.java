package io.shadowml.jobs;

import org.apache.flink.api.connector.sink2.Sink;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.avro.Verdict;

/** Where the job writes; Kafka in production, anything else in tests and backtests. */
public record ShadowSinks(
        Sink<ComparisonReport> reports,
        Sink<Verdict> verdicts,
        Sink<ScoredEvent> scoredEvents, // null: scored events are not written
        Sink<DeadLetter> deadLetters) {
}
