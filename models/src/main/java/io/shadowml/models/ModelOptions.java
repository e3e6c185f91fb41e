package io.shadowml.models;

import java.io.Serializable;

/**
 * How an {@link OnnxModel} runs: ONNX Runtime thread counts and the largest batch scored in one
 * {@code OrtSession.run}. Immutable; start from {@link #defaults()}.
 *
 * <p>The defaults (1 intra-op thread, 1 inter-op thread) suit Flink, where parallelism comes from
 * running one model instance per subtask: more ORT threads per subtask would only compete with the
 * other subtasks for the same cores. Spinning of ORT pool threads is always disabled for the same
 * reason.
 */
public final class ModelOptions implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final int DEFAULT_INTRA_OP_THREADS = 1;
    public static final int DEFAULT_INTER_OP_THREADS = 1;
    public static final int DEFAULT_MAX_BATCH_SIZE = 256;

    private static final ModelOptions DEFAULTS =
            new ModelOptions(DEFAULT_INTRA_OP_THREADS, DEFAULT_INTER_OP_THREADS, DEFAULT_MAX_BATCH_SIZE);

    private final int intraOpThreads;
    private final int interOpThreads;
    private final int maxBatchSize;

    private ModelOptions(int intraOpThreads, int interOpThreads, int maxBatchSize) {
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException("intraOpThreads must be >= 1, got " + intraOpThreads);
        }
        if (interOpThreads < 1) {
            throw new IllegalArgumentException("interOpThreads must be >= 1, got " + interOpThreads);
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
        }
        this.intraOpThreads = intraOpThreads;
        this.interOpThreads = interOpThreads;
        this.maxBatchSize = maxBatchSize;
    }

    /** intraOpThreads 1, interOpThreads 1, maxBatchSize 256. */
    public static ModelOptions defaults() {
        return DEFAULTS;
    }

    public static ModelOptions of(int intraOpThreads, int interOpThreads, int maxBatchSize) {
        return new ModelOptions(intraOpThreads, interOpThreads, maxBatchSize);
    }

    public ModelOptions withIntraOpThreads(int n) {
        return new ModelOptions(n, interOpThreads, maxBatchSize);
    }

    public ModelOptions withInterOpThreads(int n) {
        return new ModelOptions(intraOpThreads, n, maxBatchSize);
    }

    public ModelOptions withMaxBatchSize(int n) {
        return new ModelOptions(intraOpThreads, interOpThreads, n);
    }

    /** Threads ONNX Runtime uses inside one operator (SessionOptions.setIntraOpNumThreads). */
    public int intraOpThreads() {
        return intraOpThreads;
    }

    /** Threads ONNX Runtime uses across operators (SessionOptions.setInterOpNumThreads). */
    public int interOpThreads() {
        return interOpThreads;
    }

    /** Rows an {@link InputBatch} holds, so the rows one {@code OrtSession.run} scores at most. */
    public int maxBatchSize() {
        return maxBatchSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelOptions
                && ((ModelOptions) o).intraOpThreads == intraOpThreads
                && ((ModelOptions) o).interOpThreads == interOpThreads
                && ((ModelOptions) o).maxBatchSize == maxBatchSize;
    }

    @Override
    public int hashCode() {
        return (intraOpThreads * 31 + interOpThreads) * 31 + maxBatchSize;
    }

    @Override
    public String toString() {
        return "ModelOptions{intraOpThreads=" + intraOpThreads + ", interOpThreads=" + interOpThreads
                + ", maxBatchSize=" + maxBatchSize + "}";
    }
}
