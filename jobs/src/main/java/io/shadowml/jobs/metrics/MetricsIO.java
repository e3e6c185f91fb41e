package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

import io.shadowml.jobs.serialization.VarInts;

/** Package-private helpers for the compact binary formats of the accumulators. */
final class MetricsIO {

    private MetricsIO() {}

    /** Unsigned LEB128 varint; {@code v} must be non-negative. */
    static void writeVarLong(DataOutput out, long v) throws IOException {
        VarInts.writeVarLong(out, v);
    }

    static long readVarLong(DataInput in) throws IOException {
        return VarInts.readVarLong(in);
    }

    static long readNonNegativeVarLong(DataInput in, String what) throws IOException {
        long v = readVarLong(in);
        if (v < 0) {
            throw new IOException("corrupt " + what + ": " + v);
        }
        return v;
    }

    /**
     * Writes only the non-zero entries of {@code counts}: the number of non-zero entries, then for
     * each one the gap to the previous non-zero index and the count, all as varints.
     */
    static void writeSparseCounts(DataOutput out, long[] counts) throws IOException {
        int nonZero = 0;
        for (long c : counts) {
            if (c != 0) {
                nonZero++;
            }
        }
        writeVarLong(out, nonZero);
        int prev = -1;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] != 0) {
                writeVarLong(out, i - prev - 1);
                writeVarLong(out, counts[i]);
                prev = i;
            }
        }
    }

    /** Reads what {@link #writeSparseCounts} wrote into {@code counts} (all zero on entry); returns the total. */
    static long readSparseCounts(DataInput in, long[] counts) throws IOException {
        long nonZero = readVarLong(in);
        if (nonZero < 0 || nonZero > counts.length) {
            throw new IOException("corrupt sparse counts: " + nonZero + " entries for " + counts.length + " slots");
        }
        long total = 0;
        long idx = -1;
        for (long k = 0; k < nonZero; k++) {
            long gap = readVarLong(in);
            idx += gap + 1;
            if (gap < 0 || idx >= counts.length) {
                throw new IOException("corrupt sparse counts: index " + idx + " out of range " + counts.length);
            }
            long c = readVarLong(in);
            if (c <= 0) {
                throw new IOException("corrupt sparse counts: count " + c + " at index " + idx);
            }
            counts[(int) idx] = c;
            total += c;
            if (total < 0) {
                throw new IOException("corrupt sparse counts: total overflows");
            }
        }
        return total;
    }

    static void checkVersion(DataInput in, int expected, String type) throws IOException {
        int v = in.readUnsignedByte();
        if (v != expected) {
            throw new IOException("unsupported " + type + " format version " + v + " (expected " + expected + ")");
        }
    }

    static double mean(double sum, long n) {
        return n == 0 ? Double.NaN : sum / n;
    }

    static double ratio(long num, long den) {
        return den == 0 ? Double.NaN : (double) num / den;
    }
}
