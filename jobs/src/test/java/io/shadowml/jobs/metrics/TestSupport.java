package io.shadowml.jobs.metrics;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Helpers shared by the metric tests. None of them computes a metric. */
final class TestSupport {

    private TestSupport() {}

    interface Writer {
        void writeTo(DataOutput out) throws IOException;
    }

    interface Reader<T> {
        T readFrom(DataInput in) throws IOException;
    }

    static byte[] bytes(Writer w) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bos)) {
            w.writeTo(out);
        }
        return bos.toByteArray();
    }

    /** Serialises then deserialises, and checks the reader consumed exactly what was written. */
    static <T> T roundTrip(Writer w, Reader<T> r) throws IOException {
        byte[] b = bytes(w);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
        T t = r.readFrom(in);
        if (in.available() != 0) {
            throw new AssertionError(in.available() + " unread bytes after readFrom");
        }
        return t;
    }

    static <T> T read(byte[] b, Reader<T> r) throws IOException {
        return r.readFrom(new DataInputStream(new ByteArrayInputStream(b)));
    }

    /**
     * Cuts [0, n) into {@code parts} contiguous ranges at random points (ranges may be empty).
     * Returns the cut points: part i is [cuts[i], cuts[i+1]).
     */
    static int[] randomCuts(int n, int parts, Random rnd) {
        int[] cuts = new int[parts + 1];
        for (int i = 1; i < parts; i++) {
            cuts[i] = rnd.nextInt(n + 1);
        }
        cuts[parts] = n;
        Arrays.sort(cuts, 1, parts);
        return cuts;
    }

    /** Random order in which to merge parts: a shuffled list of indexes. */
    static List<Integer> shuffledIndexes(int parts, Random rnd) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            idx.add(i);
        }
        java.util.Collections.shuffle(idx, rnd);
        return idx;
    }

    static void assertClose(double expected, double actual, double relTol, String what) {
        if (Double.isNaN(expected) && Double.isNaN(actual)) {
            return;
        }
        double tol = relTol * Math.max(1.0, Math.abs(expected));
        if (!(Math.abs(expected - actual) <= tol)) {
            throw new AssertionError(what + ": expected " + expected + " but was " + actual + " (tol " + tol + ")");
        }
    }
}
