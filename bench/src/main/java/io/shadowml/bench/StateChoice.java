package io.shadowml.bench;

import java.util.Locale;

/** {@code --state}: the Flink state backend of every run. */
enum StateChoice {
    /** Objects on the JVM heap ({@code hashmap}), snapshotted to the checkpoint directory. */
    HEAP("hashmap"),
    /** Embedded RocksDB (what production uses for weeks of join state), full (non-incremental) checkpoints. */
    ROCKSDB("rocksdb");

    /** The value of Flink's {@code state.backend.type}. */
    final String flinkName;

    StateChoice(String flinkName) {
        this.flinkName = flinkName;
    }

    /** The name on the command line and in the output: heap, rocksdb. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
