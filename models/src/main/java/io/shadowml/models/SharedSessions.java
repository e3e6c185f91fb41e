package io.shadowml.models;

import java.util.HashMap;
import java.util.Map;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * The ONNX Runtime sessions of this process, one per model bytes and thread settings, shared by every
 * {@link OnnxModel} that loads the same model: the scoring subtasks of one TaskManager hold a model's
 * weights once, not once per slot. ONNX Runtime's {@code Run} is stateless and may be called concurrently
 * on one session (onnxruntime issue #13571); what a run needs of its own (run options for
 * {@link OnnxModel#interrupt()}, the input and output buffers) stays with each {@link OnnxModel}.
 *
 * <p>The key is what was verified, never a path: the model file's sha256, the sha256 of each external-data
 * file, and the session's thread counts. Reference-counted: the last {@link Lease#close()} closes the
 * session. Loads of different keys wait for each other (a model is loaded once, and loads are rare).
 */
final class SharedSessions {
    /** What makes two sessions interchangeable. */
    record Key(String sha256, Map<String, String> externalDataSha256, int intraOpThreads, int interOpThreads) {}

    /** Creates the session when no open one has the key. */
    interface Factory {
        OrtSession create() throws OrtException;
    }

    private static final class Shared {
        final OrtSession session;
        int leases;

        Shared(OrtSession session) {
            this.session = session;
        }
    }

    private static final Map<Key, Shared> OPEN = new HashMap<>();

    private SharedSessions() {}

    /** A lease on the open session of {@code key}, created by {@code factory} if there is none. */
    static synchronized Lease acquire(Key key, Factory factory) throws OrtException {
        Shared shared = OPEN.get(key);
        if (shared == null) {
            shared = new Shared(factory.create());
            OPEN.put(key, shared);
        }
        shared.leases++;
        return new Lease(key, shared.session);
    }

    /** How many sessions are open in this process (for tests and the operator's metric). */
    static synchronized int openSessions() {
        return OPEN.size();
    }

    private static synchronized void release(Key key) throws OrtException {
        Shared shared = OPEN.get(key);
        if (shared != null && --shared.leases == 0) {
            OPEN.remove(key);
            shared.session.close();
        }
    }

    /** One user's hold on a shared session; closing it twice releases it once. */
    static final class Lease implements AutoCloseable {
        private final Key key;
        final OrtSession session;
        private boolean released;

        private Lease(Key key, OrtSession session) {
            this.key = key;
            this.session = session;
        }

        @Override
        public void close() throws OrtException {
            if (!released) {
                released = true;
                release(key);
            }
        }
    }
}
