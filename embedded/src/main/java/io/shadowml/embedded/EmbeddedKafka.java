package io.shadowml.embedded;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;

/**
 * A real, in-process Apache Kafka node in KRaft mode: one combined {@code broker,controller}
 * process ({@code node.id=1}), listening on 127.0.0.1 only, PLAINTEXT.
 *
 * <p>It runs Kafka's own {@link KafkaRaftServer} (what {@code kafka-server-start.sh} runs) on a log
 * directory formatted with Kafka's own {@link Formatter} (what {@code kafka-storage.sh format} runs).
 * Broker defaults are tuned for a one-node cluster that serves exactly-once (transactional) Flink
 * sinks; see {@link #DEFAULT_BROKER_PROPERTIES}.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
 *     kafka.createTopic("events", 3);
 *     kafka.produce("events", key, value, System.currentTimeMillis());
 *     List<ConsumerRecord<byte[], byte[]>> all = kafka.readAll("events", true, Duration.ofSeconds(30));
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #close()} shuts the node down, waits for its threads, closes the helper
 * clients and (unless a caller-owned log dir was given) deletes the log directory.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    /** The only address the node binds to and advertises. */
    public static final String HOST = "127.0.0.1";

    private static final int NODE_ID = 1;
    private static final String BROKER_LISTENER = "PLAINTEXT";
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final int PORT_ATTEMPTS = 3;
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration TOPIC_TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicInteger CLIENT_SEQ = new AtomicInteger();

    /**
     * Broker settings applied unless overridden through {@link Builder#brokerProperty}.
     * Single node: every internal topic has replication factor 1 / min ISR 1.
     */
    public static final Map<String, String> DEFAULT_BROKER_PROPERTIES;

    static {
        Map<String, String> d = new LinkedHashMap<>();
        // Exactly-once sinks on one node.
        d.put("transaction.state.log.replication.factor", "1");
        d.put("transaction.state.log.min.isr", "1");
        d.put("transaction.state.log.num.partitions", "1");
        // Must be >= the Flink KafkaSink's transaction.timeout.ms (Flink defaults to 1 h).
        d.put("transaction.max.timeout.ms", "3600000");
        d.put("offsets.topic.replication.factor", "1");
        d.put("offsets.topic.num.partitions", "1");
        d.put("share.coordinator.state.topic.replication.factor", "1");
        d.put("share.coordinator.state.topic.min.isr", "1");
        d.put("default.replication.factor", "1");
        d.put("min.insync.replicas", "1");
        d.put("num.partitions", "1");
        d.put("group.initial.rebalance.delay.ms", "0");
        // Tests create their topics explicitly (createTopic), so a typo fails fast.
        d.put("auto.create.topics.enable", "false");
        // Keep the footprint small: the log cleaner would allocate 128 MiB by default.
        d.put("log.cleaner.dedupe.buffer.size", "2097152");
        d.put("num.network.threads", "2");
        d.put("num.io.threads", "4");
        d.put("background.threads", "4");
        d.put("num.recovery.threads.per.data.dir", "1");
        DEFAULT_BROKER_PROPERTIES = Map.copyOf(d);
    }

    /** Keys the embedded node sets itself; overriding them would break the single-node layout. */
    private static final Set<String> RESERVED_KEYS = Set.of(
            "process.roles",
            "node.id",
            "broker.id",
            "listeners",
            "advertised.listeners",
            "listener.security.protocol.map",
            "controller.listener.names",
            "inter.broker.listener.name",
            "security.inter.broker.protocol",
            "controller.quorum.voters",
            "controller.quorum.bootstrap.servers",
            "log.dirs",
            "log.dir",
            "metadata.log.dir");

    private final KafkaRaftServer server;
    private final Path baseDir;
    private final boolean deleteOnClose;
    private final int port;
    private final int controllerPort;
    private final String clusterId;
    private volatile Duration startupTime;

    private Admin admin;
    private Producer<byte[], byte[]> producer;
    private boolean closed;

    private EmbeddedKafka(
            KafkaRaftServer server,
            Path baseDir,
            boolean deleteOnClose,
            int port,
            int controllerPort,
            String clusterId) {
        this.server = server;
        this.baseDir = baseDir;
        this.deleteOnClose = deleteOnClose;
        this.port = port;
        this.controllerPort = controllerPort;
        this.clusterId = clusterId;
    }

    /** Starts a node on an ephemeral port with a temporary log dir (deleted on close). */
    public static EmbeddedKafka start() {
        return builder().start();
    }

    /** Starts a node on {@code port} (0 = ephemeral) with a temporary log dir (deleted on close). */
    public static EmbeddedKafka start(int port) {
        return builder().port(port).start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Options for {@link EmbeddedKafka}. */
    public static final class Builder {
        private int port;
        private int controllerPort;
        private Path logDir;
        private Boolean deleteLogDirOnClose;
        private final Map<String, String> brokerProperties = new LinkedHashMap<>();

        private Builder() {}

        /** The client (PLAINTEXT) port on 127.0.0.1; 0 (default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            this.port = port;
            return this;
        }

        /** The KRaft controller port on 127.0.0.1; 0 (default) picks a free one. */
        public Builder controllerPort(int controllerPort) {
            if (controllerPort < 0 || controllerPort > 65535) {
                throw new IllegalArgumentException("port out of range: " + controllerPort);
            }
            this.controllerPort = controllerPort;
            return this;
        }

        /**
         * A caller-owned base directory (created if missing). It is kept on close by default, and a
         * node started again on it finds its topics and data (it is formatted only the first time).
         * Without this, a fresh temporary directory is used and deleted on close.
         */
        public Builder logDir(Path logDir) {
            this.logDir = Objects.requireNonNull(logDir, "logDir");
            return this;
        }

        /** Overrides whether the log dir is deleted on close (default: only if temporary). */
        public Builder deleteLogDirOnClose(boolean delete) {
            this.deleteLogDirOnClose = delete;
            return this;
        }

        /** An extra broker setting; overrides {@link #DEFAULT_BROKER_PROPERTIES}. */
        public Builder brokerProperty(String key, Object value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (RESERVED_KEYS.contains(key)) {
                throw new IllegalArgumentException(key + " is set by EmbeddedKafka itself and cannot be overridden");
            }
            brokerProperties.put(key, String.valueOf(value));
            return this;
        }

        /** Extra broker settings; see {@link #brokerProperty}. */
        public Builder brokerProperties(Map<String, ?> properties) {
            properties.forEach(this::brokerProperty);
            return this;
        }

        /** Formats (if needed) and starts the node; returns once the broker serves clients. */
        public EmbeddedKafka start() {
            return EmbeddedKafka.doStart(this);
        }
    }

    private static EmbeddedKafka doStart(Builder b) {
        long t0 = System.nanoTime();
        Path base;
        boolean temporary = b.logDir == null;
        try {
            base = temporary ? Files.createTempDirectory("embedded-kafka-") : Files.createDirectories(b.logDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the Kafka log dir", e);
        }
        boolean deleteOnClose = b.deleteLogDirOnClose != null ? b.deleteLogDirOnClose : temporary;
        Path dataDir = base.resolve("kraft-combined-logs");
        boolean autoPorts = b.port == 0 || b.controllerPort == 0;

        RuntimeException last = null;
        for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
            KafkaRaftServer server = null;
            try {
                int port = b.port != 0 ? b.port : freePort(-1);
                int controllerPort = b.controllerPort != 0 ? b.controllerPort : freePort(port);
                KafkaConfig config = new KafkaConfig(nodeProperties(b, dataDir, port, controllerPort), false);
                String clusterId = formatIfNeeded(dataDir);
                server = new KafkaRaftServer(config, Time.SYSTEM);
                // Returns once the controller leads the quorum and the broker is registered and unfenced.
                server.startup();
                EmbeddedKafka kafka = new EmbeddedKafka(server, base, deleteOnClose, port, controllerPort, clusterId);
                server = null; // owned by kafka from here on
                try {
                    kafka.awaitReady();
                } catch (RuntimeException e) {
                    kafka.closeQuietly();
                    throw e;
                }
                kafka.startupTime = Duration.ofNanos(System.nanoTime() - t0);
                LOG.info(
                        "Embedded Kafka (KRaft, cluster {}) ready at {} in {} ms; log dir {}",
                        clusterId,
                        kafka.bootstrapServers(),
                        kafka.startupTime.toMillis(),
                        base);
                return kafka;
            } catch (Throwable e) {
                if (server != null) {
                    shutdownQuietly(server);
                }
                last = e instanceof RuntimeException re
                        ? re
                        : new IllegalStateException("embedded Kafka failed to start", e);
                if (!(autoPorts && isBindFailure(e) && attempt < PORT_ATTEMPTS)) {
                    break;
                }
                LOG.warn("Embedded Kafka could not bind its port (attempt {}), retrying on another", attempt);
            }
        }
        if (deleteOnClose) {
            deleteQuietly(base);
        }
        throw last;
    }

    private static Map<String, String> nodeProperties(Builder b, Path dataDir, int port, int controllerPort) {
        Map<String, String> p = new HashMap<>(DEFAULT_BROKER_PROPERTIES);
        p.putAll(b.brokerProperties);
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        p.put(
                "listeners",
                BROKER_LISTENER + "://" + HOST + ":" + port + "," + CONTROLLER_LISTENER + "://" + HOST + ":"
                        + controllerPort);
        p.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + port);
        p.put("listener.security.protocol.map", BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("inter.broker.listener.name", BROKER_LISTENER);
        p.put("log.dirs", dataDir.toString());
        return p;
    }

    /**
     * Formats {@code dataDir} as a combined node with a static one-voter quorum, unless it already
     * holds a {@code meta.properties} (a restart on a caller-owned dir). Returns the cluster id.
     */
    private static String formatIfNeeded(Path dataDir) throws Exception {
        Path meta = dataDir.resolve("meta.properties");
        if (Files.exists(meta)) {
            java.util.Properties props = Utils.loadProps(meta.toString());
            return props.getProperty("cluster.id");
        }
        Files.createDirectories(dataDir);
        String clusterId = Uuid.randomUuid().toString();
        new Formatter()
                .setPrintStream(new PrintStream(java.io.OutputStream.nullOutputStream()))
                .setNodeId(NODE_ID)
                .setClusterId(clusterId)
                .addDirectory(dataDir.toString())
                .setMetadataLogDirectory(dataDir.toString())
                .setControllerListenerName(CONTROLLER_LISTENER)
                .setHasDynamicQuorum(false) // static controller.quorum.voters
                .setUnstableFeatureVersionsEnabled(false)
                .setIgnoreFormatted(false)
                .run();
        return clusterId;
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (!admin().describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                    return;
                }
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                last = new IllegalStateException("broker not ready yet", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the broker", e);
            }
            sleep(100);
        }
        throw new IllegalStateException("embedded Kafka broker not ready within " + READY_TIMEOUT, last);
    }

    // ---------------------------------------------------------------------------------- accessors

    /** {@code 127.0.0.1:<port>}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    /** The client (PLAINTEXT) port. */
    public int port() {
        return port;
    }

    /** The KRaft controller port (clients never need it). */
    public int controllerPort() {
        return controllerPort;
    }

    public String clusterId() {
        return clusterId;
    }

    /** The base directory holding {@code kraft-combined-logs/} (data and metadata log). */
    public Path logDir() {
        return baseDir;
    }

    /** Wall time from {@code start()} until the broker answered a client request. */
    public Duration startupTime() {
        return startupTime;
    }

    /** A shared admin client, closed with this node. Do not close it yourself. */
    public synchronized Admin admin() {
        ensureOpen();
        if (admin == null) {
            Map<String, Object> p = new HashMap<>();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
            p.put(AdminClientConfig.CLIENT_ID_CONFIG, "embedded-kafka-admin-" + CLIENT_SEQ.incrementAndGet());
            admin = Admin.create(p);
        }
        return admin;
    }

    // -------------------------------------------------------------------------- client properties

    /** Byte-array producer: {@code acks=all}, idempotent. A new mutable map each call. */
    public Map<String, Object> producerProps() {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return p;
    }

    /** {@link #producerProps()} plus {@code transactional.id}. */
    public Map<String, Object> transactionalProducerProps(String transactionalId) {
        Map<String, Object> p = producerProps();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, Objects.requireNonNull(transactionalId));
        return p;
    }

    /**
     * Byte-array consumer in group {@code group} (null = no group, use {@code assign}), reading from
     * earliest, auto-commit off, {@code isolation.level} left at Kafka's default (read_uncommitted).
     */
    public Map<String, Object> consumerProps(String group) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        }
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return p;
    }

    /** {@link #consumerProps(String)} with {@code isolation.level} read_committed or read_uncommitted. */
    public Map<String, Object> consumerProps(String group, boolean readCommitted) {
        Map<String, Object> p = consumerProps(group);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        return p;
    }

    // ----------------------------------------------------------------------------------- topics

    /** Creates a topic (replication factor 1) and waits until every partition has a leader. */
    public void createTopic(String name, int partitions) {
        createTopic(name, partitions, Map.of());
    }

    /** Creates a topic with topic-level configs and waits until every partition has a leader. */
    public void createTopic(String name, int partitions, Map<String, String> topicConfigs) {
        NewTopic topic = new NewTopic(name, partitions, (short) 1).configs(topicConfigs);
        try {
            admin().createTopics(List.of(topic)).all().get(TOPIC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic " + name, unwrap(e));
        }
        awaitTopic(name, partitions);
    }

    /** Deletes a topic and waits until the broker no longer lists it. */
    public void deleteTopic(String name) {
        try {
            admin().deleteTopics(List.of(name)).all().get(TOPIC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            long deadline = System.nanoTime() + TOPIC_TIMEOUT.toNanos();
            while (admin().listTopics().names().get().contains(name)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("topic " + name + " still listed after delete");
                }
                sleep(50);
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("cannot delete topic " + name, unwrap(e));
        }
    }

    private void awaitTopic(String name, int partitions) {
        long deadline = System.nanoTime() + TOPIC_TIMEOUT.toNanos();
        Throwable last = null;
        while (System.nanoTime() < deadline) {
            try {
                TopicDescription d = admin().describeTopics(List.of(name))
                        .allTopicNames()
                        .get(5, TimeUnit.SECONDS)
                        .get(name);
                if (d != null
                        && d.partitions().size() == partitions
                        && d.partitions().stream()
                                .map(TopicPartitionInfo::leader)
                                .allMatch(l -> l != null && l.id() >= 0)) {
                    return;
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    last = e.getCause();
                }
            } catch (java.util.concurrent.TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for topic " + name, e);
            }
            sleep(50);
        }
        throw new IllegalStateException("topic " + name + " not ready within " + TOPIC_TIMEOUT, last);
    }

    // --------------------------------------------------------------------------------- produce

    /** Sends one record through a shared idempotent producer and waits for the ack. */
    public RecordMetadata produce(String topic, byte[] key, byte[] value, long timestampMs) {
        return produce(List.of(new ProducerRecord<>(topic, null, timestampMs, key, value)))
                .get(0);
    }

    /** Sends records (in order) through a shared idempotent producer and waits for all acks. */
    public List<RecordMetadata> produce(List<ProducerRecord<byte[], byte[]>> records) {
        Producer<byte[], byte[]> p = producer();
        List<Future<RecordMetadata>> futures = new ArrayList<>(records.size());
        for (ProducerRecord<byte[], byte[]> r : records) {
            futures.add(p.send(r));
        }
        p.flush();
        List<RecordMetadata> out = new ArrayList<>(futures.size());
        try {
            for (Future<RecordMetadata> f : futures) {
                out.add(f.get(TOPIC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
            }
        } catch (Exception e) {
            throw new IllegalStateException("produce failed", unwrap(e));
        }
        return out;
    }

    private synchronized Producer<byte[], byte[]> producer() {
        ensureOpen();
        if (producer == null) {
            Map<String, Object> p = producerProps();
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "embedded-kafka-producer-" + CLIENT_SEQ.incrementAndGet());
            producer = new KafkaProducer<>(p);
        }
        return producer;
    }

    // ------------------------------------------------------------------------------------ read

    /**
     * Reads a topic from the earliest offset of every partition up to the end offsets taken when
     * the call starts (with {@code readCommitted} the last stable offsets, so committed records only
     * and no aborted ones). No consumer group is used. Records are sorted by (partition, offset).
     *
     * @throws TimeoutException if the end offsets are not reached within {@code timeout}
     */
    public List<ConsumerRecord<byte[], byte[]>> readAll(String topic, boolean readCommitted, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Object> p = consumerProps(null, readCommitted);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "embedded-kafka-reader-" + CLIENT_SEQ.incrementAndGet());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, remaining(deadline));
            if (infos == null || infos.isEmpty()) {
                throw new UnknownTopicOrPartitionException("topic " + topic + " does not exist");
            }
            List<TopicPartition> tps = infos.stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition()))
                    .toList();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, remaining(deadline));
            while (true) {
                boolean done = true;
                for (TopicPartition tp : tps) {
                    if (consumer.position(tp, remaining(deadline)) < end.get(tp)) {
                        done = false;
                        break;
                    }
                }
                if (done) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("readAll(" + topic + ") did not reach end offsets " + end + " within "
                            + timeout + "; read " + out.size() + " records");
                }
                Duration poll = remaining(deadline);
                for (ConsumerRecord<byte[], byte[]> r :
                        consumer.poll(poll.compareTo(Duration.ofMillis(200)) < 0 ? poll : Duration.ofMillis(200))) {
                    out.add(r);
                }
            }
        }
        out.sort(Comparator.<ConsumerRecord<byte[], byte[]>>comparingInt(ConsumerRecord::partition)
                .thenComparingLong(ConsumerRecord::offset));
        return out;
    }

    /**
     * {@link #readAll} again and again, each record turned into a {@code T} by {@code decode}, until
     * {@code complete} holds for what was read or {@code patience} has passed; returns the last read
     * either way, so the caller's checks say what is missing. For the exactly-once outputs of a Flink job:
     * its KafkaSink commits the last transaction when the final checkpoint completes, which a
     * {@code read_committed} reader can see a moment after the job has finished.
     */
    public <T> List<T> readAllUntil(
            String topic,
            boolean readCommitted,
            Function<ConsumerRecord<byte[], byte[]>, T> decode,
            Predicate<List<T>> complete,
            Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            List<T> out = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : readAll(topic, readCommitted, Duration.ofSeconds(30))) {
                out.add(decode.apply(r));
            }
            if (complete.test(out) || System.nanoTime() > deadline) {
                return out;
            }
            sleep(500);
        }
    }

    // ----------------------------------------------------------------------------------- close

    /** Stops the node, waits for its threads, closes helper clients, deletes a temporary log dir. */
    @Override
    public void close() {
        Admin a;
        Producer<byte[], byte[]> pr;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            a = admin;
            pr = producer;
            admin = null;
            producer = null;
        }
        long t0 = System.nanoTime();
        if (pr != null) {
            Utils.closeQuietly(() -> pr.close(Duration.ofSeconds(5)), "embedded-kafka producer");
        }
        if (a != null) {
            Utils.closeQuietly(() -> a.close(Duration.ofSeconds(5)), "embedded-kafka admin");
        }
        shutdownQuietly(server);
        if (deleteOnClose) {
            deleteQuietly(baseDir);
        }
        LOG.info(
                "Embedded Kafka at {} stopped in {} ms",
                bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException e) {
            LOG.warn("error closing embedded Kafka", e);
        }
    }

    private synchronized void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("embedded Kafka is closed");
        }
    }

    // --------------------------------------------------------------------------------- helpers

    private static void shutdownQuietly(KafkaRaftServer server) {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (Throwable t) {
            LOG.warn("error shutting down embedded Kafka", t);
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            Utils.delete(dir.toFile());
        } catch (IOException e) {
            LOG.warn("cannot delete {}", dir, e);
        }
    }

    /** A port that was free on 127.0.0.1 a moment ago (Kafka binds it right after). */
    private static int freePort(int notThis) throws IOException {
        for (int i = 0; i < 10; i++) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
                int p = s.getLocalPort();
                if (p != notThis) {
                    return p;
                }
            }
        }
        throw new IOException("no free port found");
    }

    private static boolean isBindFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.net.BindException
                    || (c.getMessage() != null && c.getMessage().contains("Address already in use"))) {
                return true;
            }
        }
        return false;
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
