package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The reliability diagram of one model: {@value #BINS} equal-width bins of the predicted probability on
 * [0, 1] (bin i = [i/10, (i+1)/10), 1.0 in the last), each with its count, sum of predicted
 * probabilities and count of hits (binary: positive label; multiclass: top-1 correct), and the
 * expected calibration error over them. Definitions: jobs/METRICS.md, "Calibration".
 *
 * <p>{@link #add} does not allocate. State: 10 × {count, sum predicted, hits}. Not thread-safe.
 */
public final class ReliabilityHistogram {
    /** Number of equal-width bins on [0, 1]. */
    public static final int BINS = 10;

    /** One non-empty bin: events with predicted probability in [lower, upper). */
    public record Bin(double lower, double upper, long count, double meanPredicted, double observed) {}

    private final long[] count = new long[BINS];
    private final double[] sumPredicted = new double[BINS];
    private final long[] hits = new long[BINS];

    /**
     * Adds one event: {@code predicted} in [0, 1] (the caller checks), {@code hit} whether the event
     * it predicted happened. A float32 probability times 10 is exact in double, so the bin is exactly
     * ⌊10·p⌋.
     */
    void add(float predicted, boolean hit) {
        int b = Math.min((int) (predicted * 10.0), BINS - 1);
        count[b]++;
        sumPredicted[b] += predicted;
        if (hit) {
            hits[b]++;
        }
    }

    void merge(ReliabilityHistogram other) {
        for (int b = 0; b < BINS; b++) {
            count[b] += other.count[b];
            sumPredicted[b] += other.sumPredicted[b];
            hits[b] += other.hits[b];
        }
    }

    ReliabilityHistogram copy() {
        ReliabilityHistogram c = new ReliabilityHistogram();
        c.merge(this);
        return c;
    }

    /** Events counted. */
    public long count() {
        long n = 0;
        for (long c : count) {
            n += c;
        }
        return n;
    }

    /** ECE = Σ_bins (count/n)·|observed − mean predicted| = Σ_bins |hits − Σ predicted| / n; NaN if n = 0. */
    public double ece() {
        long n = count();
        if (n == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (int b = 0; b < BINS; b++) {
            sum += Math.abs(hits[b] - sumPredicted[b]);
        }
        return sum / n;
    }

    /** The non-empty bins in ascending order. */
    public List<Bin> bins() {
        List<Bin> out = new ArrayList<>();
        for (int b = 0; b < BINS; b++) {
            if (count[b] > 0) {
                out.add(new Bin(
                        b / (double) BINS,
                        (b + 1) / (double) BINS,
                        count[b],
                        sumPredicted[b] / count[b],
                        (double) hits[b] / count[b]));
            }
        }
        return out;
    }

    /** Format: per bin its count (varint) and, if non-zero, the sum predicted (double) and hits (varint). */
    void writeTo(DataOutput out) throws IOException {
        for (int b = 0; b < BINS; b++) {
            MetricsIO.writeVarLong(out, count[b]);
            if (count[b] > 0) {
                out.writeDouble(sumPredicted[b]);
                MetricsIO.writeVarLong(out, hits[b]);
            }
        }
    }

    static ReliabilityHistogram readFrom(DataInput in) throws IOException {
        ReliabilityHistogram h = new ReliabilityHistogram();
        for (int b = 0; b < BINS; b++) {
            h.count[b] = MetricsIO.readNonNegativeVarLong(in, "reliability count");
            if (h.count[b] > 0) {
                h.sumPredicted[b] = in.readDouble();
                h.hits[b] = MetricsIO.readNonNegativeVarLong(in, "reliability hits");
                if (h.hits[b] > h.count[b]) {
                    throw new IOException("corrupt ReliabilityHistogram: " + h.hits[b] + " hits of " + h.count[b]);
                }
            }
        }
        return h;
    }

    /** Exact equality of the state (doubles compared bitwise). */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ReliabilityHistogram)) {
            return false;
        }
        ReliabilityHistogram that = (ReliabilityHistogram) o;
        return Arrays.equals(count, that.count)
                && Arrays.equals(sumPredicted, that.sumPredicted)
                && Arrays.equals(hits, that.hits);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(count) + Arrays.hashCode(sumPredicted)) + Arrays.hashCode(hits);
    }
}
