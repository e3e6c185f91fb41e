package io.shadowml.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's checkpoint directory is gone after {@code close()} and after Ctrl-C. */
class CheckpointDirectoryTest {
    @Test
    void closeDeletesEverything() throws Exception {
        Path dir;
        try (CheckpointDirectory checkpoints = CheckpointDirectory.create()) {
            dir = checkpoints.path();
            assertTrue(Files.isDirectory(dir));
            assertTrue(dir.getFileName().toString().startsWith("shadowml-checkpoints"));
            writeCheckpointLikeFiles(dir);
        }
        assertFalse(Files.exists(dir));
        CheckpointDirectory.delete(dir); // a second time: nothing to do
    }

    /**
     * Ctrl-C (SIGINT) on a JVM that holds a checkpoint directory: its shutdown hook runs the action that
     * stops the writers (here: one last write, as a checkpoint finishing while the job stops), then deletes
     * the directory with everything in it.
     */
    @Test
    void ctrlCDeletesAfterStoppingTheWriters(@TempDir Path scratch) throws Exception {
        Path stopped = scratch.resolve("writers-stopped");
        Process jvm = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        HoldsADirectory.class.getName(),
                        stopped.toString())
                .redirectError(scratch.resolve("stderr.txt").toFile())
                .start();
        Path dir;
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
            dir = Path.of(out.readLine());
            assertTrue(Files.isRegularFile(dir.resolve("job/chk-1/_metadata")), "the child wrote no checkpoint");
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(jvm.pid())).start();
            assertEquals(0, kill.waitFor());
            assertTrue(jvm.waitFor(30, TimeUnit.SECONDS), "the JVM did not exit on SIGINT");
        } finally {
            jvm.destroyForcibly();
        }
        assertTrue(Files.exists(stopped), "the hook did not stop the writers first");
        assertFalse(Files.exists(dir), dir + " is still there after Ctrl-C");
    }

    private static void writeCheckpointLikeFiles(Path dir) throws Exception {
        Path chk = Files.createDirectories(dir.resolve("job").resolve("chk-1"));
        Files.write(chk.resolve("_metadata"), new byte[1024]);
        Files.write(chk.resolve("state-0"), new byte[4096]);
        Files.createDirectories(dir.resolve("job").resolve("shared"));
        Files.createDirectories(dir.resolve("job").resolve("taskowned"));
    }

    /** The child JVM: creates a checkpoint directory, prints its path, waits for a signal. */
    public static final class HoldsADirectory {
        public static void main(String[] args) throws Exception {
            Path stopped = Path.of(args[0]);
            CheckpointDirectory checkpoints = CheckpointDirectory.create();
            writeCheckpointLikeFiles(checkpoints.path());
            checkpoints.beforeShutdownDelete(() -> {
                try {
                    Path chk = Files.createDirectories(checkpoints.path().resolve("job/chk-2"));
                    Files.write(chk.resolve("_metadata"), new byte[1]);
                    Files.createFile(stopped);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            System.out.println(checkpoints.path());
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(2));
        }
    }
}
