package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

import org.apache.datasketches.kll.KllDoublesSketch;

/**
 * Mergeable live-vs-candidate disagreement on the same events, no labels needed: flip count, mean and
 * maximum absolute difference, and quantiles of the difference from an Apache DataSketches KLL sketch.
 * Definitions and the sketch's rank error: jobs/METRICS.md, "Disagreement".
 *
 * <p>{@link #add} creates no per-event objects (the sketch's arrays grow O(log n) times overall). Merge:
 * counts, sum and max are exact; the sketch merges within the same rank-error bound. Not thread-safe.
 */
public final class DisagreementAccumulator {

    public static final int DEFAULT_K = 200;

    private static final int FORMAT_VERSION = 1;

    private long count;
    private long flips;
    private double sumAbsDiff;
    private double maxAbsDiff;
    private final KllDoublesSketch sketch;

    public DisagreementAccumulator() {
        this(DEFAULT_K);
    }

    /** @param k KLL accuracy parameter (8 ≤ k ≤ 65535); larger = more accurate and larger. */
    public DisagreementAccumulator(int k) {
        this(KllDoublesSketch.newHeapInstance(k));
    }

    private DisagreementAccumulator(KllDoublesSketch sketch) {
        this.sketch = sketch;
    }

    /**
     * @param absScoreDifference |candidate − live| score difference; must be finite and ≥ 0
     *     (otherwise IllegalArgumentException, state unchanged)
     */
    public void add(boolean decisionFlipped, double absScoreDifference) {
        if (!(absScoreDifference >= 0.0) || absScoreDifference == Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("absScoreDifference must be finite and >= 0: " + absScoreDifference);
        }
        count++;
        if (decisionFlipped) {
            flips++;
        }
        sumAbsDiff += absScoreDifference;
        if (absScoreDifference > maxAbsDiff) {
            maxAbsDiff = absScoreDifference;
        }
        sketch.update(absScoreDifference);
    }

    public void merge(DisagreementAccumulator other) {
        count += other.count;
        flips += other.flips;
        sumAbsDiff += other.sumAbsDiff;
        if (other.maxAbsDiff > maxAbsDiff) {
            maxAbsDiff = other.maxAbsDiff;
        }
        if (!other.sketch.isEmpty()) {
            sketch.merge(other.sketch);
        }
    }

    public DisagreementAccumulator copy() {
        DisagreementAccumulator c = new DisagreementAccumulator(KllSketches.copy(sketch));
        c.count = count;
        c.flips = flips;
        c.sumAbsDiff = sumAbsDiff;
        c.maxAbsDiff = maxAbsDiff;
        return c;
    }

    // ---------------------------------------------------------------- getters

    public long count() {
        return count;
    }

    public long flips() {
        return flips;
    }

    public double flipRate() {
        return MetricsIO.ratio(flips, count);
    }

    public double meanAbsDifference() {
        return MetricsIO.mean(sumAbsDiff, count);
    }

    public double maxAbsDifference() {
        return count == 0 ? Double.NaN : maxAbsDiff;
    }

    /** Approximate q-quantile of the absolute score differences, q in [0, 1]; NaN when empty. */
    public double absDifferenceQuantile(double q) {
        if (!(q >= 0.0 && q <= 1.0)) {
            throw new IllegalArgumentException("q must be in [0, 1]: " + q);
        }
        if (sketch.isEmpty()) {
            return Double.NaN;
        }
        return sketch.getQuantile(q);
    }

    /** The KLL sketch's normalised rank error for single quantile queries (99% confidence). */
    public double absDifferenceRankError() {
        return sketch.getNormalizedRankError(false);
    }

    /** KLL accuracy parameter k. */
    public int sketchK() {
        return sketch.getK();
    }

    /** Number of values the sketch has seen (equals {@link #count()}). */
    public long sketchN() {
        return sketch.getN();
    }

    // ---------------------------------------------------------------- serialisation

    /**
     * Format: version byte, count and flips (varints), sum and max (doubles), sketch length (int)
     * and the sketch's {@code toByteArray()} bytes.
     */
    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        MetricsIO.writeVarLong(out, count);
        MetricsIO.writeVarLong(out, flips);
        out.writeDouble(sumAbsDiff);
        out.writeDouble(maxAbsDiff);
        KllSketches.write(out, sketch);
    }

    public static DisagreementAccumulator readFrom(DataInput in) throws IOException {
        MetricsIO.checkVersion(in, FORMAT_VERSION, "DisagreementAccumulator");
        long count = MetricsIO.readNonNegativeVarLong(in, "count");
        long flips = MetricsIO.readNonNegativeVarLong(in, "flips");
        double sum = in.readDouble();
        double max = in.readDouble();
        KllDoublesSketch sketch = KllSketches.read(in, "DisagreementAccumulator");
        if (flips > count || sketch.getN() != count) {
            throw new IOException("corrupt DisagreementAccumulator: count=" + count + " flips=" + flips + " sketchN="
                    + sketch.getN());
        }
        DisagreementAccumulator a = new DisagreementAccumulator(sketch);
        a.count = count;
        a.flips = flips;
        a.sumAbsDiff = sum;
        a.maxAbsDiff = max;
        return a;
    }

    /** Exact equality of the whole state, the sketch compared by its serialised bytes. */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof DisagreementAccumulator)) {
            return false;
        }
        DisagreementAccumulator that = (DisagreementAccumulator) o;
        return count == that.count
                && flips == that.flips
                && Double.compare(sumAbsDiff, that.sumAbsDiff) == 0
                && Double.compare(maxAbsDiff, that.maxAbsDiff) == 0
                && Arrays.equals(sketch.toByteArray(), that.sketch.toByteArray());
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(count);
        h = 31 * h + Long.hashCode(flips);
        h = 31 * h + Double.hashCode(sumAbsDiff);
        return 31 * h + Double.hashCode(maxAbsDiff);
    }

    @Override
    public String toString() {
        return "DisagreementAccumulator{n=" + count + ", flips=" + flips + ", meanAbsDiff=" + meanAbsDifference()
                + ", maxAbsDiff=" + maxAbsDifference() + "}";
    }
}
