package io.shadowml.bench;

/** What one run measures: the ceiling, or the whole job at a batch size. */
record Variant(Kind kind, int batchSize) {
    enum Kind {
        /** The job's two Kafka sources (decoding included) and nothing else. */
        CEILING,
        /** The whole job: {@code ShadowJob.build} with the Kafka sources and the production Kafka sinks. */
        WHOLE_JOB
    }

    static Variant ceiling() {
        return new Variant(Kind.CEILING, 0);
    }

    static Variant wholeJob(int batchSize) {
        return new Variant(Kind.WHOLE_JOB, batchSize);
    }

    boolean isWholeJob() {
        return kind == Kind.WHOLE_JOB;
    }

    /** For people: {@code ceiling}, {@code whole job, batch 64}. */
    String label() {
        return isWholeJob() ? "whole job, batch " + batchSize : "ceiling";
    }

    /** For names (topics, consumer groups, JSON): {@code ceiling}, {@code job-b64}. */
    String id() {
        return isWholeJob() ? "job-b" + batchSize : "ceiling";
    }
}
