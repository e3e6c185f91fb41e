package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

import io.shadowml.stats.McNemarTest;
import io.shadowml.stats.PairedTTest;

/**
 * Mergeable paired comparison of the live and a candidate model on the same labelled events: the
 * agreement counts (a both right, b live only, c candidate only, d both wrong) behind McNemar's test,
 * and the mean and M2 of the per-event loss difference (Welford, merged with Chan et al.'s formula).
 * Classification also keeps the agreement counts per true class, from which the verdict derives the
 * paired recall and precision differences (a rare positive class hides in overall accuracy).
 * Tests and intervals: jobs/METRICS.md, "Paired comparison" and "Verdict"; the formulas live in
 * shadowml-stats ({@link McNemarTest}, {@link PairedTTest}).
 *
 * <p>{@link #add} does not allocate. Non-finite losses are rejected with IllegalArgumentException
 * (state unchanged). Not thread-safe.
 */
public final class PairedComparisonAccumulator {

    /** Below this many discordant pairs (b + c) the exact binomial test is used. */
    public static final int EXACT_BELOW = McNemarTest.EXACT_BELOW;

    /** 2: version 1 followed by the per-class agreement counts. Version 1 is read with none. */
    private static final int FORMAT_VERSION = 2;

    private static final int MAX_CLASSES = 1 << 16;

    private long bothCorrect;
    private long liveOnly;
    private long candidateOnly;
    private long bothWrong;
    private double mean;
    private double m2;

    /**
     * Agreement counts by true class: {@code byClass[4·y + 2·liveCorrect + candidateCorrect]}. Empty
     * for regression, and for state restored from format 1 (the per-class figures then count from the
     * upgrade on).
     */
    private long[] byClass;

    /** Without per-class counts (regression). */
    public PairedComparisonAccumulator() {
        this(0);
    }

    /** With agreement counts for {@code classes} true classes (0 for regression). */
    public PairedComparisonAccumulator(int classes) {
        if (classes < 0 || classes > MAX_CLASSES) {
            throw new IllegalArgumentException("classes must be in [0, " + MAX_CLASSES + "], was " + classes);
        }
        byClass = new long[4 * classes];
    }

    /**
     * Adds a labelled pair of true class {@code trueClass} (in [0, classes)); see {@link #add(boolean,
     * boolean, double, double)}.
     */
    public void add(
            int trueClass, boolean liveCorrect, boolean candidateCorrect, double liveLoss, double candidateLoss) {
        if (trueClass < 0 || 4 * trueClass >= byClass.length) {
            throw new IllegalArgumentException("class " + trueClass + " outside [0, " + classes() + ")");
        }
        add(liveCorrect, candidateCorrect, liveLoss, candidateLoss);
        byClass[4 * trueClass + (liveCorrect ? 2 : 0) + (candidateCorrect ? 1 : 0)]++;
    }

    /** Adds a labelled pair without a class (regression, or counts kept overall only). */
    public void add(boolean liveCorrect, boolean candidateCorrect, double liveLoss, double candidateLoss) {
        double d = candidateLoss - liveLoss;
        if (!Double.isFinite(d) || !Double.isFinite(liveLoss) || !Double.isFinite(candidateLoss)) {
            throw new IllegalArgumentException("non-finite loss: live=" + liveLoss + " candidate=" + candidateLoss);
        }
        if (liveCorrect) {
            if (candidateCorrect) {
                bothCorrect++;
            } else {
                liveOnly++;
            }
        } else {
            if (candidateCorrect) {
                candidateOnly++;
            } else {
                bothWrong++;
            }
        }
        long n = count();
        double delta = d - mean;
        mean += delta / n;
        m2 += delta * (d - mean);
    }

    public void merge(PairedComparisonAccumulator other) {
        long na = count();
        long nb = other.count();
        bothCorrect += other.bothCorrect;
        liveOnly += other.liveOnly;
        candidateOnly += other.candidateOnly;
        bothWrong += other.bothWrong;
        if (other.byClass.length > byClass.length) {
            byClass = Arrays.copyOf(byClass, other.byClass.length);
        }
        for (int i = 0; i < other.byClass.length; i++) {
            byClass[i] += other.byClass[i];
        }
        if (nb == 0) {
            return;
        }
        if (na == 0) {
            mean = other.mean;
            m2 = other.m2;
            return;
        }
        double n = (double) na + nb;
        double delta = other.mean - mean;
        mean += delta * (nb / n);
        m2 += other.m2 + delta * delta * ((double) na * nb / n);
    }

    public PairedComparisonAccumulator copy() {
        PairedComparisonAccumulator c = new PairedComparisonAccumulator();
        c.byClass = byClass.clone();
        c.bothCorrect = bothCorrect;
        c.liveOnly = liveOnly;
        c.candidateOnly = candidateOnly;
        c.bothWrong = bothWrong;
        c.mean = mean;
        c.m2 = m2;
        return c;
    }

    // ---------------------------------------------------------------- getters

    public long count() {
        return bothCorrect + liveOnly + candidateOnly + bothWrong;
    }

    public long bothCorrect() {
        return bothCorrect;
    }

    /** b: live right, candidate wrong. */
    public long liveOnlyCorrect() {
        return liveOnly;
    }

    /** c: candidate right, live wrong. */
    public long candidateOnlyCorrect() {
        return candidateOnly;
    }

    public long bothWrong() {
        return bothWrong;
    }

    /** Classes with agreement counts (0 for regression). */
    public int classes() {
        return byClass.length / 4;
    }

    /**
     * Pairs of true class {@code y} where live was {@code liveCorrect} and the candidate
     * {@code candidateCorrect}; 0 for a class without counts.
     */
    public long count(int y, boolean liveCorrect, boolean candidateCorrect) {
        int i = 4 * y + (liveCorrect ? 2 : 0) + (candidateCorrect ? 1 : 0);
        return y < 0 || i >= byClass.length ? 0 : byClass[i];
    }

    /** Pairs of true class {@code y}. */
    public long classCount(int y) {
        return count(y, true, true) + count(y, true, false) + count(y, false, true) + count(y, false, false);
    }

    public double liveAccuracy() {
        return MetricsIO.ratio(bothCorrect + liveOnly, count());
    }

    public double candidateAccuracy() {
        return MetricsIO.ratio(bothCorrect + candidateOnly, count());
    }

    /** Two-sided McNemar p-value; see the class comment. */
    public double mcnemarPValue() {
        return mcnemarPValue(liveOnly, candidateOnly);
    }

    /**
     * Two-sided McNemar p-value for discordant counts b and c: exact below {@link #EXACT_BELOW}, χ²
     * with continuity correction from there on ({@link McNemarTest#pValue}).
     */
    public static double mcnemarPValue(long b, long c) {
        return McNemarTest.pValue(b, c);
    }

    /** mean(candidateLoss − liveLoss); NaN when n = 0. */
    public double meanLossDifference() {
        return count() == 0 ? Double.NaN : mean;
    }

    /** Sample variance (n − 1 denominator) of the loss differences; NaN when n &lt; 2. */
    public double lossDifferenceVariance() {
        long n = count();
        return n < 2 ? Double.NaN : Math.max(m2, 0.0) / (n - 1);
    }

    /**
     * Student-t 95% confidence interval {low, high} of the mean loss difference ({@link
     * PairedTTest#radius}); NaNs when n &lt; 2.
     */
    public double[] lossDifferenceCi95() {
        long n = count();
        if (n < 2) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double half = PairedTTest.radius(n, lossDifferenceVariance(), 0.05);
        return new double[] {mean - half, mean + half};
    }

    // ---------------------------------------------------------------- serialisation

    /**
     * Format 2: version byte, a, b, c, d (varints), mean and M2 (doubles), the number of classes and
     * their 4 agreement counts each (varints).
     */
    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        MetricsIO.writeVarLong(out, bothCorrect);
        MetricsIO.writeVarLong(out, liveOnly);
        MetricsIO.writeVarLong(out, candidateOnly);
        MetricsIO.writeVarLong(out, bothWrong);
        out.writeDouble(mean);
        out.writeDouble(m2);
        MetricsIO.writeVarLong(out, classes());
        for (long k : byClass) {
            MetricsIO.writeVarLong(out, k);
        }
    }

    public static PairedComparisonAccumulator readFrom(DataInput in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != 1 && version != FORMAT_VERSION) {
            throw new IOException("unknown PairedComparisonAccumulator format " + version);
        }
        PairedComparisonAccumulator a = new PairedComparisonAccumulator();
        a.bothCorrect = MetricsIO.readNonNegativeVarLong(in, "bothCorrect");
        a.liveOnly = MetricsIO.readNonNegativeVarLong(in, "liveOnly");
        a.candidateOnly = MetricsIO.readNonNegativeVarLong(in, "candidateOnly");
        a.bothWrong = MetricsIO.readNonNegativeVarLong(in, "bothWrong");
        a.mean = in.readDouble();
        a.m2 = in.readDouble();
        if (version == 1) {
            return a;
        }
        long classes = MetricsIO.readVarLong(in);
        if (classes < 0 || classes > MAX_CLASSES) {
            throw new IOException("corrupt PairedComparisonAccumulator: " + classes + " classes");
        }
        a.byClass = new long[4 * (int) classes];
        long total = 0;
        for (int i = 0; i < a.byClass.length; i++) {
            a.byClass[i] = MetricsIO.readNonNegativeVarLong(in, "class agreement count");
            total += a.byClass[i];
        }
        if (total > a.count()) {
            throw new IOException("corrupt PairedComparisonAccumulator: " + total + " class pairs of " + a.count());
        }
        return a;
    }

    /** Exact equality of the whole state (doubles compared bitwise). */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof PairedComparisonAccumulator)) {
            return false;
        }
        PairedComparisonAccumulator that = (PairedComparisonAccumulator) o;
        return bothCorrect == that.bothCorrect
                && liveOnly == that.liveOnly
                && candidateOnly == that.candidateOnly
                && bothWrong == that.bothWrong
                && Double.compare(mean, that.mean) == 0
                && Double.compare(m2, that.m2) == 0
                && Arrays.equals(byClass, that.byClass);
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(bothCorrect);
        h = 31 * h + Long.hashCode(liveOnly);
        h = 31 * h + Long.hashCode(candidateOnly);
        h = 31 * h + Long.hashCode(bothWrong);
        h = 31 * h + Double.hashCode(mean);
        h = 31 * h + Arrays.hashCode(byClass);
        return 31 * h + Double.hashCode(m2);
    }

    @Override
    public String toString() {
        return "PairedComparisonAccumulator{n=" + count() + ", b=" + liveOnly + ", c=" + candidateOnly
                + ", meanLossDiff=" + meanLossDifference() + "}";
    }
}
