package io.shadowml.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * Issue 16: resubmitting the job to one session cluster must not leak. The job is submitted (submit.sh:
 * upload + run over REST) and cancelled as soon as its tasks run, {@value #CYCLES} times in a row; after
 * each cancellation the JobManager, and once the next job is deployed the TaskManager, are garbage
 * collected ({@code jcmd GC.run}) and their metaspace used ({@code jcmd VM.metaspace}, class space
 * included) and the number of the jobs' classloaders still loaded are read. Before
 * the fix every submission kept its user-code classloader (~14 MB of JobManager, ~17 MB of TaskManager
 * metaspace) and the JobManager died of Metaspace after about a dozen; see jobs/README.md, "Classloading".
 *
 * <p>Bound: after the last cycle each process stays within {@value #BOUND_MB} MB of its metaspace after
 * the first cycle; the JobManager holds at most one job classloader, the TaskManager none besides the
 * running job's but the one of the first job that started ONNX Runtime (its shutdown-hook thread
 * inherited that job's access-control context); and the {@value #CYCLES}+1st job runs. The processes run with {@code -XX:SoftRefLRUPolicyMSPerMB=0}
 * so that a forced GC also clears soft references (the JDK's serialization caches hold the last jobs'
 * classes softly, which a JVM clears anyway before it would throw OutOfMemoryError).
 */
class ResubmissionIT extends LocalClusterSupport {
    static final int CYCLES = 20;
    static final int BOUND_MB = 8;

    @Test
    void resubmittingDoesNotLeakClassloaders() throws Exception {
        assertTrue(Files.isRegularFile(jobJar), "job jar missing: " + jobJar + " (build the jobs module first)");
        deleteTree(work);
        Files.createDirectories(work);
        List<Long> pids = new ArrayList<>();
        try {
            script(
                    Duration.ofMinutes(4),
                    Map.of("FLINK_EXTRA_JVM_OPTS", "-XX:NativeMemoryTracking=summary -XX:SoftRefLRUPolicyMSPerMB=0"),
                    "start.sh");
            pids.addAll(pids());
            long jm = pid("jobmanager");
            long tm = pid("taskmanager");
            Footprint jmStart = footprint(jm);
            Footprint tmStart = footprint(tm);
            step("started: JM " + jmStart + ", TM " + tmStart);

            List<Footprint> jms = new ArrayList<>();
            List<Footprint> tms = new ArrayList<>();
            String job = submit();
            for (int i = 1; i <= CYCLES; i++) {
                cancel(job);
                jms.add(footprint(jm));
                // The TaskManager is measured with the next job deployed: until a class is serialized there for
                // the first time (as a deployment does), the JDK's serialization cache (ObjectStreamClass's
                // reflectors, a ClassCache) keeps the references it cleared in a queue that holds their classes,
                // so the job cancelled last stays loaded until then whenever a GC ran while it was alive (seen
                // in a heap dump of the TaskManager).
                String next = submit();
                tms.add(footprint(tm));
                step("cycle " + i + " (job " + job + " cancelled, " + next + " running): JM " + jms.get(i - 1) + ", TM "
                        + tms.get(i - 1));
                job = next;
            }
            Footprint jmFirst = jms.get(0);
            Footprint jmLast = jms.get(CYCLES - 1);
            Footprint tmFirst = tms.get(0);
            Footprint tmLast = tms.get(CYCLES - 1);
            String figures = String.format(
                    "metaspace MB after cycle 1 → %d: JM %.1f → %.1f (start %.1f), TM %.1f → %.1f (start %.1f);"
                            + " job classloaders JM %d, TM %d; native committed MB TM %.0f → %.0f",
                    CYCLES,
                    jmFirst.metaspaceMb,
                    jmLast.metaspaceMb,
                    jmStart.metaspaceMb,
                    tmFirst.metaspaceMb,
                    tmLast.metaspaceMb,
                    tmStart.metaspaceMb,
                    jmLast.jobLoaders,
                    tmLast.jobLoaders,
                    tmFirst.nativeMb,
                    tmLast.nativeMb);
            step(figures);
            assertTrue(jmLast.metaspaceMb - jmFirst.metaspaceMb <= BOUND_MB, "JobManager metaspace grows: " + figures);
            assertTrue(tmLast.metaspaceMb - tmFirst.metaspaceMb <= BOUND_MB, "TaskManager metaspace grows: " + figures);
            assertTrue(jmLast.jobLoaders <= 1, "job classloaders left in the JobManager: " + figures);
            // Besides the running job's own, only the first job's (ONNX Runtime's shutdown hook).
            assertTrue(tmLast.jobLoaders <= 2, "job classloaders left in the TaskManager: " + figures);

            assertEquals("RUNNING", state(job), "job " + (CYCLES + 1));
            step("job " + (CYCLES + 1) + " " + job + " runs");
        } finally {
            stopCluster(pids);
        }
    }

    private String submit() throws Exception {
        List<String> out = script(Duration.ofMinutes(3), "submit.sh");
        String job = out.get(out.size() - 1).trim();
        assertTrue(job.matches("[0-9a-f]{32}"), "job id: " + job);
        return job;
    }

    private void cancel(String job) throws Exception {
        http.send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(REST + "/jobs/" + job + "?mode=cancel"))
                        .method("PATCH", java.net.http.HttpRequest.BodyPublishers.noBody())
                        .timeout(Duration.ofSeconds(20))
                        .build(),
                java.net.http.HttpResponse.BodyHandlers.discarding());
        await(
                Duration.ofSeconds(60),
                "job " + job + " CANCELED",
                () -> state(job).equals("CANCELED"));
        Files.deleteIfExists(work.resolve("job.id"));
    }

    private String state(String job) throws Exception {
        return JSON.readTree(get(REST + "/jobs/" + job)).path("state").asText();
    }

    private long pid(String name) throws Exception {
        return Long.parseLong(
                Files.readString(work.resolve("pids/" + name + ".pid")).trim());
    }

    /** After two forced GCs: metaspace used (VM.metaspace, class space included), job classloaders, NMT total. */
    private Footprint footprint(long pid) throws Exception {
        jcmd(pid, "GC.run");
        Thread.sleep(500);
        jcmd(pid, "GC.run");
        String metaspace = String.join("\n", jcmd(pid, "VM.metaspace"));
        Matcher used =
                Pattern.compile("Both:.*?committed,\\s+([0-9.]+) (KB|MB) \\(").matcher(metaspace);
        assertTrue(used.find(), "no metaspace figures in\n" + metaspace);
        double usedMb = Double.parseDouble(used.group(1)) / (used.group(2).equals("KB") ? 1024 : 1);
        String nmt = String.join("\n", jcmd(pid, "VM.native_memory", "summary", "scale=KB"));
        Matcher total =
                Pattern.compile("Total: reserved=\\d+KB, committed=(\\d+)KB").matcher(nmt);
        assertTrue(total.find(), "no NMT total in\n" + nmt);
        long loaders = jcmd(pid, "VM.classloader_stats").stream()
                .filter(l -> l.endsWith("org.apache.flink.util.ChildFirstClassLoader"))
                .count();
        return new Footprint(usedMb, Long.parseLong(total.group(1)) / 1024.0, (int) loaders);
    }

    private List<String> jcmd(long pid, String... command) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        List<String> cmd = new ArrayList<>(List.of(Files.isExecutable(jcmd) ? jcmd.toString() : "jcmd", "" + pid));
        cmd.addAll(List.of(command));
        return exec(Duration.ofSeconds(60), cmd, Map.of());
    }

    record Footprint(double metaspaceMb, double nativeMb, int jobLoaders) {
        @Override
        public String toString() {
            return String.format(
                    "metaspace %.1f MB, native %.0f MB, job classloaders %d", metaspaceMb, nativeMb, jobLoaders);
        }
    }
}
