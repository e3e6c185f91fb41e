package io.shadowml.jobs.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;

/** Bytes the current thread allocates (HotSpot's per-thread counter); tests that need it are skipped without. */
public final class Allocations {
    private Allocations() {}

    private static com.sun.management.ThreadMXBean bean() {
        java.lang.management.ThreadMXBean b = ManagementFactory.getThreadMXBean();
        assumeTrue(b instanceof com.sun.management.ThreadMXBean, "no allocation counter on this JVM");
        com.sun.management.ThreadMXBean sb = (com.sun.management.ThreadMXBean) b;
        assumeTrue(sb.isThreadAllocatedMemorySupported());
        sb.setThreadAllocatedMemoryEnabled(true);
        return sb;
    }

    /** Bytes allocated so far by the current thread. */
    public static long current() {
        return bean().getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /** Bytes the current thread allocates in a second run of {@code r} (the first warms up). */
    public static long allocatedBy(Runnable r) {
        r.run();
        long before = current();
        r.run();
        return current() - before;
    }
}
