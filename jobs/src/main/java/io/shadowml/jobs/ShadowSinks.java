package io.shadowml.jobs;

import org.apache.flink.api.connector.sink2.Sink;

import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.avro.Verdict;

/**
 * Where the job writes; Kafka in production, anything else in tests and backtests. Every sink is
 * required: where an output is not wanted (scored events without {@code topics.scored_events}), pass
 * Flink's {@link org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink}.
 */
public record ShadowSinks(
        Sink<ComparisonReport> reports,
        Sink<Verdict> verdicts,
        Sink<ScoredEvent> scoredEvents,
        Sink<DeadLetter> deadLetters) {}
