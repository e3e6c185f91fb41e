package io.shadowml.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * A temporary directory for the demo's checkpoints, deleted on {@link #close()} and, if the JVM exits
 * first (Ctrl-C, SIGTERM), by a shutdown hook. The hook first runs the action set with {@link
 * #beforeShutdownDelete}, which stops whatever still writes into the directory (a running job would
 * recreate it with its next checkpoint), then deletes the directory.
 */
final class CheckpointDirectory implements AutoCloseable {
    private final Path path;
    private final Thread hook;
    private volatile Runnable beforeShutdownDelete = () -> {};

    private CheckpointDirectory(Path path) {
        this.path = path;
        this.hook = new Thread(this::onShutdown, "delete-checkpoint-directory");
    }

    /** Creates a fresh directory under {@code java.io.tmpdir} and registers its shutdown hook. */
    static CheckpointDirectory create() throws IOException {
        CheckpointDirectory dir = new CheckpointDirectory(Files.createTempDirectory("shadowml-checkpoints"));
        Runtime.getRuntime().addShutdownHook(dir.hook);
        return dir;
    }

    Path path() {
        return path;
    }

    /** Runs on shutdown before the directory is deleted (the last one set wins). */
    void beforeShutdownDelete(Runnable action) {
        beforeShutdownDelete = action;
    }

    /** Deletes the directory (again, if it exists) and unregisters the hook unless the JVM is exiting. */
    @Override
    public void close() {
        delete(path);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shutdownInProgress) {
            // the hook is running or about to: it deletes what is left
        }
    }

    private void onShutdown() {
        try {
            beforeShutdownDelete.run();
        } catch (RuntimeException e) {
            System.err.println("before deleting " + path + ": " + e);
        }
        try {
            delete(path);
        } catch (UncheckedIOException e) {
            System.err.println(e.getMessage() + ": " + e.getCause());
        }
    }

    /**
     * Deletes {@code dir} with everything in it; entries that vanish meanwhile are fine, entries that appear
     * meanwhile are deleted by a second pass.
     */
    static void delete(Path dir) {
        for (int attempt = 1; ; attempt++) {
            try {
                deleteTree(dir);
                return;
            } catch (DirectoryNotEmptyException written) {
                if (attempt == 3) {
                    throw new UncheckedIOException("cannot delete " + dir + ": still written to", written);
                }
            } catch (NoSuchFileException gone) {
                return;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete " + dir, e);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null && !(e instanceof NoSuchFileException)) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
