package io.shadowml.deploy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.shadowml.jobs.config.ShadowJobConfig;

/**
 * Creates every topic a shadow-job config names (idempotent). Inputs get {@code --input-partitions}
 * partitions (default 2 = the local cluster's parallelism), outputs one.
 *
 * <pre>java -cp ... io.shadowml.deploy.CreateTopics --config work/shadow-job.yaml</pre>
 */
@Command(name = "CreateTopics", description = "Creates every topic a shadow-job config names (idempotent).")
public final class CreateTopics implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "the job's YAML config")
    Path config;

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT", description = "default: the config's bootstrap servers")
    String bootstrap;

    @Option(names = "--input-partitions", paramLabel = "N", description = "partitions of the input topics (default 2)")
    int inputPartitions = 2;

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "print this help and exit")
    boolean help;

    /** Topic name → partitions, from the job config. */
    static Map<String, Integer> topics(ShadowJobConfig cfg, int inputPartitions) {
        Map<String, Integer> t = new LinkedHashMap<>();
        t.put(cfg.requestsTopic, inputPartitions);
        t.put(cfg.labelsTopic, inputPartitions);
        t.put(cfg.reportsTopic, 1);
        t.put(cfg.verdictsTopic, 1);
        t.put(cfg.deadLetterTopic, 1);
        if (cfg.scoredEventsTopic != null) {
            t.put(cfg.scoredEventsTopic, 1);
        }
        if (cfg.controlTopic != null) {
            t.put(cfg.controlTopic, 1);
        }
        return t;
    }

    public static void main(String[] argv) {
        System.exit(new CommandLine(new CreateTopics()).execute(argv));
    }

    @Override
    public Integer call() throws Exception {
        ShadowJobConfig cfg = ShadowJobConfig.load(config);
        Properties p = cfg.clientProperties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap != null ? bootstrap : cfg.bootstrapServers);
        try (Admin admin = Admin.create(p)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> create = new ArrayList<>();
            topics(cfg, inputPartitions).forEach((name, partitions) -> {
                if (!existing.contains(name)) {
                    NewTopic topic = new NewTopic(name, partitions, (short) 1);
                    if (name.equals(cfg.controlTopic)) {
                        // The model table: the latest announcement per model id is all a start without state reads.
                        topic.configs(Map.of("cleanup.policy", "compact"));
                    }
                    create.add(topic);
                }
            });
            if (!create.isEmpty()) {
                admin.createTopics(create).all().get(30, TimeUnit.SECONDS);
            }
            for (NewTopic t : create) {
                System.out.println("created topic " + t.name() + " (" + t.numPartitions() + " partitions)");
            }
            System.out.println("topics ready: " + topics(cfg, 0).keySet());
        }
        return 0;
    }
}
