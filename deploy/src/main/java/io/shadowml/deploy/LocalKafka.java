package io.shadowml.deploy;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.shadowml.embedded.EmbeddedKafka;

/**
 * A single-node KRaft Kafka broker as its own process, for deploy/local/start.sh: Kafka's own
 * KafkaRaftServer on a log dir formatted like {@code kafka-storage.sh format} (via embedded's
 * {@link EmbeddedKafka}), PLAINTEXT on 127.0.0.1. Runs until SIGTERM; the log dir is kept, so a
 * restart finds its topics (and the job's committed transactions) again.
 *
 * <pre>java -cp ... io.shadowml.deploy.LocalKafka --port 19092 --controller-port 19093 --dir work/kafka</pre>
 */
@Command(name = "LocalKafka", description = "A single-node KRaft Kafka broker; runs until SIGTERM.")
public final class LocalKafka implements Callable<Integer> {
    @Option(names = "--port", paramLabel = "PORT", description = "PLAINTEXT listener port (default 19092)")
    int port = 19092;

    @Option(names = "--controller-port", paramLabel = "PORT", description = "KRaft controller port (default 19093)")
    int controllerPort = 19093;

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "log dir, kept across restarts")
    Path dir;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

    public static void main(String[] argv) {
        int code = new CommandLine(new LocalKafka()).execute(argv);
        // After SIGTERM the JVM is already shutting down, where System.exit would block: exit only on errors.
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.builder()
                .port(port)
                .controllerPort(controllerPort)
                .logDir(dir)
                .deleteLogDirOnClose(false)
                // Replayed scenarios carry event-time record timestamps months in the past: never
                // let time-based retention delete them under the running job.
                .brokerProperty("log.retention.ms", "-1")
                .start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                kafka.close();
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "local-kafka-shutdown"));
        // start.sh waits for this line.
        System.out.println("KAFKA READY " + kafka.bootstrapServers());
        System.out.flush();
        stopped.await();
        return 0;
    }
}
