package io.shadowml.deploy;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import io.shadowml.embedded.EmbeddedKafka;

/**
 * A single-node KRaft Kafka broker as its own process, for deploy/local/start.sh: Kafka's own
 * KafkaRaftServer on a log dir formatted like {@code kafka-storage.sh format} (via embedded's
 * {@link EmbeddedKafka}), PLAINTEXT on 127.0.0.1. Runs until SIGTERM; the log dir is kept, so a
 * restart finds its topics (and the job's committed transactions) again.
 *
 * <pre>java -cp ... io.shadowml.deploy.LocalKafka --port 19092 --controller-port 19093 --dir work/kafka</pre>
 */
public final class LocalKafka {
    private LocalKafka() {}

    public static void main(String[] argv) throws Exception {
        Args args = new Args(argv);
        EmbeddedKafka kafka = EmbeddedKafka.builder()
                .port(args.getInt("port", 19092))
                .controllerPort(args.getInt("controller-port", 19093))
                .logDir(Path.of(args.get("dir")))
                .deleteLogDirOnClose(false)
                // Replayed scenarios carry event-time record timestamps months in the past: never
                // let time-based retention delete them under the running job.
                .brokerProperty("log.retention.ms", "-1")
                .start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                kafka.close();
            } finally {
                stopped.countDown();
            }
        }, "local-kafka-shutdown"));
        // start.sh waits for this line.
        System.out.println("KAFKA READY " + kafka.bootstrapServers());
        System.out.flush();
        stopped.await();
    }
}
