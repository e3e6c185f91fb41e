package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;

/**
 * Mergeable quality metrics of a binary classifier from events {@code (score, positive)}, score =
 * P(positive): confusion counts at the model's threshold, log loss, Brier score and a binned ROC AUC
 * with its error bound. Definitions, NaN cases and the bound: jobs/METRICS.md, "Binary classification".
 *
 * <p>{@link #add} does not allocate. A merged accumulator equals the one-shot one exactly in all counts
 * and up to floating-point rounding in the sums. Not thread-safe.
 */
public final class BinaryQualityAccumulator implements QualityAccumulator {

    /** Default number of histogram bins on [0, 1]. */
    public static final int DEFAULT_BINS = 1000;
    /** Upper limit of {@code bins}, keeps the state bounded. */
    public static final int MAX_BINS = 1 << 20;

    private static final int FORMAT_VERSION = 1;

    private final double threshold;
    private final int bins;
    private long tp;
    private long fp;
    private long tn;
    private long fn;
    private double sumLogLoss;
    private double sumBrier;
    private final long[] posHist;
    private final long[] negHist;

    public BinaryQualityAccumulator(double threshold) {
        this(threshold, DEFAULT_BINS);
    }

    public BinaryQualityAccumulator(double threshold, int bins) {
        if (Double.isNaN(threshold)) {
            throw new IllegalArgumentException("threshold is NaN");
        }
        if (bins < 1 || bins > MAX_BINS) {
            throw new IllegalArgumentException("bins must be in [1, " + MAX_BINS + "]: " + bins);
        }
        this.threshold = threshold;
        this.bins = bins;
        this.posHist = new long[bins];
        this.negHist = new long[bins];
    }

    /**
     * Adds one labelled event.
     *
     * @param score the model's P(positive), must be in [0, 1] (NaN or out of range throws
     *     IllegalArgumentException and leaves the state unchanged)
     * @param positive the true label
     */
    public void add(double score, boolean positive) {
        if (!(score >= 0.0 && score <= 1.0)) {
            throw new IllegalArgumentException("score must be in [0, 1]: " + score);
        }
        // In the scores' float32 precision: a 0.7f score is at threshold 0.7 (as doubles it is below).
        boolean predictedPositive = score >= (float) threshold;
        int bin = binOf(score);
        sumLogLoss += Loss.binaryLogLoss(score, positive);
        if (positive) {
            if (predictedPositive) {
                tp++;
            } else {
                fn++;
            }
            posHist[bin]++;
            double d = score - 1.0;
            sumBrier += d * d;
        } else {
            if (predictedPositive) {
                fp++;
            } else {
                tn++;
            }
            negHist[bin]++;
            sumBrier += score * score;
        }
    }

    /** One slot, P(positive); label 1 is the positive class. */
    @Override
    public void addLabelled(float[] outputs, int offset, double label) {
        add(outputs[offset], label == 1.0);
    }

    /** The histogram bin of a score in [0, 1]: floor(score · bins), with 1.0 in the last bin. */
    public int binOf(double score) {
        int b = (int) (score * bins);
        return b >= bins ? bins - 1 : Math.max(b, 0);
    }

    /** Adds all of {@code other}'s events to this one; threshold and bins must be equal. */
    public void merge(BinaryQualityAccumulator other) {
        if (Double.compare(threshold, other.threshold) != 0 || bins != other.bins) {
            throw new IllegalArgumentException("cannot merge accumulators with threshold/bins " + threshold + "/" + bins
                    + " and " + other.threshold + "/" + other.bins);
        }
        tp += other.tp;
        fp += other.fp;
        tn += other.tn;
        fn += other.fn;
        sumLogLoss += other.sumLogLoss;
        sumBrier += other.sumBrier;
        for (int i = 0; i < bins; i++) {
            posHist[i] += other.posHist[i];
            negHist[i] += other.negHist[i];
        }
    }

    @Override
    public void merge(QualityAccumulator other) {
        if (!(other instanceof BinaryQualityAccumulator)) {
            throw new IllegalArgumentException(
                    "cannot merge a " + other.getClass().getSimpleName() + " into a BinaryQualityAccumulator");
        }
        merge((BinaryQualityAccumulator) other);
    }

    @Override
    public BinaryQualityAccumulator copy() {
        BinaryQualityAccumulator c = new BinaryQualityAccumulator(threshold, bins);
        c.merge(this);
        return c;
    }

    // ---------------------------------------------------------------- getters

    public double threshold() {
        return threshold;
    }

    public int bins() {
        return bins;
    }

    @Override
    public long count() {
        return tp + fp + tn + fn;
    }

    public long positives() {
        return tp + fn;
    }

    public long negatives() {
        return tn + fp;
    }

    public long truePositives() {
        return tp;
    }

    public long falsePositives() {
        return fp;
    }

    public long trueNegatives() {
        return tn;
    }

    public long falseNegatives() {
        return fn;
    }

    /** Count of positives in histogram bin {@code i}. */
    public long positiveBinCount(int i) {
        return posHist[i];
    }

    /** Count of negatives in histogram bin {@code i}. */
    public long negativeBinCount(int i) {
        return negHist[i];
    }

    public double accuracy() {
        return MetricsIO.ratio(tp + tn, count());
    }

    public double precision() {
        return MetricsIO.ratio(tp, tp + fp);
    }

    public double recall() {
        return MetricsIO.ratio(tp, tp + fn);
    }

    public double f1() {
        return MetricsIO.ratio(2 * tp, 2 * tp + fp + fn);
    }

    public double logLoss() {
        return MetricsIO.mean(sumLogLoss, count());
    }

    public double brier() {
        return MetricsIO.mean(sumBrier, count());
    }

    /** Binned ROC AUC (Mann–Whitney over bins, shared bin = 1/2); NaN without both classes. */
    public double rocAuc() {
        long p = positives();
        long n = negatives();
        if (p == 0 || n == 0) {
            return Double.NaN;
        }
        double wins = 0.0;
        double negBelow = 0.0;
        for (int i = 0; i < bins; i++) {
            long pi = posHist[i];
            long ni = negHist[i];
            if (pi != 0) {
                wins += pi * (negBelow + 0.5 * ni);
            }
            negBelow += ni;
        }
        return wins / ((double) p * (double) n);
    }

    /**
     * Upper bound on |{@link #rocAuc()} − exact AUC|: half the fraction of positive/negative pairs
     * that share a histogram bin. NaN when {@link #rocAuc()} is NaN.
     */
    public double rocAucMaxError() {
        long p = positives();
        long n = negatives();
        if (p == 0 || n == 0) {
            return Double.NaN;
        }
        double shared = 0.0;
        for (int i = 0; i < bins; i++) {
            shared += (double) posHist[i] * negHist[i];
        }
        return 0.5 * shared / ((double) p * (double) n);
    }

    @Override
    public void putMetrics(Map<String, Double> metrics) {
        metrics.put("accuracy", accuracy());
        metrics.put("precision", precision());
        metrics.put("recall", recall());
        metrics.put("f1", f1());
        metrics.put("roc_auc", rocAuc());
        metrics.put("log_loss", logLoss());
        metrics.put("brier", brier());
        metrics.put("positives", (double) positives());
    }

    // ---------------------------------------------------------------- serialisation

    /**
     * Format: version byte, threshold (double), bins (int), tp, fp, tn, fn (varints), sum of log loss
     * and sum of squared errors (doubles), then the positive and negative histograms, each as only its
     * non-zero bins (count, then gap-encoded index and count as varints).
     */
    @Override
    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeDouble(threshold);
        out.writeInt(bins);
        MetricsIO.writeVarLong(out, tp);
        MetricsIO.writeVarLong(out, fp);
        MetricsIO.writeVarLong(out, tn);
        MetricsIO.writeVarLong(out, fn);
        out.writeDouble(sumLogLoss);
        out.writeDouble(sumBrier);
        MetricsIO.writeSparseCounts(out, posHist);
        MetricsIO.writeSparseCounts(out, negHist);
    }

    public static BinaryQualityAccumulator readFrom(DataInput in) throws IOException {
        MetricsIO.checkVersion(in, FORMAT_VERSION, "BinaryQualityAccumulator");
        double threshold = in.readDouble();
        int bins = in.readInt();
        BinaryQualityAccumulator a;
        try {
            a = new BinaryQualityAccumulator(threshold, bins);
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt BinaryQualityAccumulator: " + e.getMessage(), e);
        }
        a.tp = MetricsIO.readNonNegativeVarLong(in, "tp");
        a.fp = MetricsIO.readNonNegativeVarLong(in, "fp");
        a.tn = MetricsIO.readNonNegativeVarLong(in, "tn");
        a.fn = MetricsIO.readNonNegativeVarLong(in, "fn");
        a.sumLogLoss = in.readDouble();
        a.sumBrier = in.readDouble();
        long pos = MetricsIO.readSparseCounts(in, a.posHist);
        long neg = MetricsIO.readSparseCounts(in, a.negHist);
        if (pos != a.tp + a.fn || neg != a.tn + a.fp) {
            throw new IOException("corrupt BinaryQualityAccumulator: histogram totals " + pos + "/" + neg
                    + " do not match confusion counts " + (a.tp + a.fn) + "/" + (a.tn + a.fp));
        }
        return a;
    }

    // ---------------------------------------------------------------- equality of state

    /** Exact equality of the whole state (doubles compared bitwise). */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof BinaryQualityAccumulator)) {
            return false;
        }
        BinaryQualityAccumulator that = (BinaryQualityAccumulator) o;
        return Double.compare(threshold, that.threshold) == 0
                && bins == that.bins
                && tp == that.tp
                && fp == that.fp
                && tn == that.tn
                && fn == that.fn
                && Double.compare(sumLogLoss, that.sumLogLoss) == 0
                && Double.compare(sumBrier, that.sumBrier) == 0
                && Arrays.equals(posHist, that.posHist)
                && Arrays.equals(negHist, that.negHist);
    }

    @Override
    public int hashCode() {
        int h = Double.hashCode(threshold);
        h = 31 * h + bins;
        h = 31 * h + Long.hashCode(tp);
        h = 31 * h + Long.hashCode(fp);
        h = 31 * h + Long.hashCode(tn);
        h = 31 * h + Long.hashCode(fn);
        h = 31 * h + Double.hashCode(sumLogLoss);
        h = 31 * h + Double.hashCode(sumBrier);
        h = 31 * h + Arrays.hashCode(posHist);
        return 31 * h + Arrays.hashCode(negHist);
    }

    @Override
    public String toString() {
        return "BinaryQualityAccumulator{threshold=" + threshold + ", bins=" + bins + ", n=" + count() + ", tp=" + tp
                + ", fp=" + fp + ", tn=" + tn + ", fn=" + fn + "}";
    }
}
