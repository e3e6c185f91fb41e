package io.shadowml.local;

import java.nio.file.Path;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The Flink side of the embedded demo, in one place: what {@link LocalDemo} runs the job on and what
 * {@code DemoCheckpointStorageTest} checks.
 */
final class DemoFlinkConfig {
    /** Parallelism of the demo's job (and so the number of slots of its MiniCluster). */
    static final int PARALLELISM = 2;

    private DemoFlinkConfig() {}

    /**
     * The MiniCluster's configuration: the web UI on {@code uiPort} (127.0.0.1 only), and checkpoints as
     * files under {@code checkpointDir}.
     *
     * <p>Without a checkpoint directory Flink keeps checkpoints in the JobManager's memory, which refuses a
     * state handle above 5 MiB: the label join passes that at about a million pending requests, every
     * checkpoint then fails and the job restarts from the last good one, forever (issue 10). On the
     * filesystem a checkpoint is as large as the disk allows.
     */
    static Configuration configuration(int uiPort, Path checkpointDir) {
        Configuration conf = new Configuration();
        conf.set(RestOptions.PORT, uiPort);
        conf.set(RestOptions.ADDRESS, "localhost");
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                checkpointDir.toUri().toString());
        return conf;
    }

    /** A local environment (a MiniCluster with the web UI) on {@code conf}, at the demo's parallelism. */
    static StreamExecutionEnvironment environment(Configuration conf) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        env.setParallelism(PARALLELISM);
        return env;
    }
}
