package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Mergeable quality metrics of a binary classifier from events {@code (score, positive)}, score =
 * P(positive), a float32 model output: confusion counts at the model's threshold, log loss, Brier
 * score, ROC AUC from tail-resolving score bins with its error bound and DeLong interval, and the
 * reliability bins with the expected calibration error. Definitions, NaN cases and the bound:
 * jobs/METRICS.md, "Binary classification".
 *
 * <p>{@link #add} allocates only when the AUC histogram sees a score bin for the first time. A merged
 * accumulator equals the one-shot one exactly in all counts and up to floating-point rounding in the
 * sums. Not thread-safe.
 */
public final class BinaryQualityAccumulator implements QualityAccumulator {

    /** 2: tail-resolving AUC bins and reliability bins. 1 (release 0.1.0): 1000 equal-width bins, still read. */
    private static final int FORMAT_VERSION = 2;

    private static final int FORMAT_VERSION_EQUAL_WIDTH_BINS = 1;
    /** Upper limit of the equal-width bin count a version-1 state may hold. */
    private static final int V1_MAX_BINS = 1 << 20;
    /** Two-sided 95 % normal quantile, for the DeLong interval. */
    private static final double Z_975 = 1.959963984540054;

    private final double threshold;
    private long tp;
    private long fp;
    private long tn;
    private long fn;
    private double sumLogLoss;
    private double sumBrier;
    private ScoreHistogram roc = new ScoreHistogram();
    private ReliabilityHistogram reliability = new ReliabilityHistogram();

    public BinaryQualityAccumulator(double threshold) {
        if (Double.isNaN(threshold)) {
            throw new IllegalArgumentException("threshold is NaN");
        }
        this.threshold = threshold;
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
        float binned = (float) score; // the histograms bin float32 scores; model outputs already are
        sumLogLoss += Loss.binaryLogLoss(score, positive);
        roc.add(binned, positive);
        reliability.add(binned, positive);
        if (positive) {
            if (predictedPositive) {
                tp++;
            } else {
                fn++;
            }
            double d = score - 1.0;
            sumBrier += d * d;
        } else {
            if (predictedPositive) {
                fp++;
            } else {
                tn++;
            }
            sumBrier += score * score;
        }
    }

    /** One slot, P(positive); label 1 is the positive class. */
    @Override
    public void addLabelled(float[] outputs, int offset, double label) {
        add(outputs[offset], label == 1.0);
    }

    /** Adds all of {@code other}'s events to this one; the thresholds must be equal. */
    public void merge(BinaryQualityAccumulator other) {
        if (Double.compare(threshold, other.threshold) != 0) {
            throw new IllegalArgumentException(
                    "cannot merge accumulators with thresholds " + threshold + " and " + other.threshold);
        }
        tp += other.tp;
        fp += other.fp;
        tn += other.tn;
        fn += other.fn;
        sumLogLoss += other.sumLogLoss;
        sumBrier += other.sumBrier;
        roc.merge(other.roc);
        reliability.merge(other.reliability);
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
        BinaryQualityAccumulator c = new BinaryQualityAccumulator(threshold);
        c.merge(this);
        return c;
    }

    /** No events, at this accumulator's threshold. */
    @Override
    public BinaryQualityAccumulator emptyCopy() {
        return new BinaryQualityAccumulator(threshold);
    }

    // ---------------------------------------------------------------- getters

    public double threshold() {
        return threshold;
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

    /** ROC AUC over the score bins (Mann–Whitney, a shared bin counts ½); NaN without both classes. */
    public double rocAuc() {
        return roc.auc();
    }

    /** Upper bound on |{@link #rocAuc()} − exact AUC| (jobs/METRICS.md); NaN when {@link #rocAuc()} is NaN. */
    public double rocAucMaxError() {
        return roc.aucMaxError();
    }

    /**
     * DeLong 95 % normal interval of the AUC, {low, high}, clipped to [0, 1]; {NaN, NaN} with fewer
     * than two positives or two negatives.
     */
    public double[] rocAucCi95() {
        double half = Z_975 * Math.sqrt(roc.aucVariance());
        double auc = roc.auc();
        if (Double.isNaN(half)) {
            return new double[] {Double.NaN, Double.NaN};
        }
        return new double[] {Math.max(0.0, auc - half), Math.min(1.0, auc + half)};
    }

    /** Expected calibration error over the reliability bins; NaN before any event (since 0.1.0 state). */
    public double ece() {
        return reliability.ece();
    }

    /** Reliability bins of P(positive) against the share of positives. */
    @Override
    public List<ReliabilityHistogram.Bin> reliability() {
        return reliability.bins();
    }

    @Override
    public void putMetrics(Map<String, Double> metrics) {
        metrics.put("accuracy", accuracy());
        metrics.put("precision", precision());
        metrics.put("recall", recall());
        metrics.put("f1", f1());
        metrics.put("roc_auc", rocAuc());
        metrics.put("roc_auc_max_error", rocAucMaxError());
        double[] ci = rocAucCi95();
        metrics.put("roc_auc_ci_low", ci[0]);
        metrics.put("roc_auc_ci_high", ci[1]);
        metrics.put("log_loss", logLoss());
        metrics.put("brier", brier());
        metrics.put("ece", ece());
        metrics.put("positives", (double) positives());
    }

    // ---------------------------------------------------------------- serialisation

    /**
     * Format 2: version byte, threshold (double), tp, fp, tn, fn (varints), sum of log loss and sum of
     * squared errors (doubles), the AUC histogram ({@link ScoreHistogram#writeTo}) and the reliability
     * bins ({@link ReliabilityHistogram#writeTo}).
     */
    @Override
    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeDouble(threshold);
        MetricsIO.writeVarLong(out, tp);
        MetricsIO.writeVarLong(out, fp);
        MetricsIO.writeVarLong(out, tn);
        MetricsIO.writeVarLong(out, fn);
        out.writeDouble(sumLogLoss);
        out.writeDouble(sumBrier);
        roc.writeTo(out);
        reliability.writeTo(out);
    }

    /**
     * Reads format 2, or format 1 (release 0.1.0): there, after the sums, the bin count (int) and the
     * positive and negative counts of equal-width bins; each bin's counts go into the AUC histogram at
     * the bin's midpoint, so AUC and bound stay those of the old bins for the events already counted
     * (jobs/METRICS.md). Format 1 has no reliability bins: they start empty.
     */
    public static BinaryQualityAccumulator readFrom(DataInput in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != FORMAT_VERSION && version != FORMAT_VERSION_EQUAL_WIDTH_BINS) {
            throw new IOException("unsupported BinaryQualityAccumulator format version " + version + " (expected "
                    + FORMAT_VERSION + " or " + FORMAT_VERSION_EQUAL_WIDTH_BINS + ")");
        }
        double threshold = in.readDouble();
        if (Double.isNaN(threshold)) {
            throw new IOException("corrupt BinaryQualityAccumulator: threshold is NaN");
        }
        int bins = version == FORMAT_VERSION_EQUAL_WIDTH_BINS ? in.readInt() : 0;
        if (version == FORMAT_VERSION_EQUAL_WIDTH_BINS && (bins < 1 || bins > V1_MAX_BINS)) {
            throw new IOException("corrupt BinaryQualityAccumulator: " + bins + " bins");
        }
        BinaryQualityAccumulator a = new BinaryQualityAccumulator(threshold);
        a.tp = MetricsIO.readNonNegativeVarLong(in, "tp");
        a.fp = MetricsIO.readNonNegativeVarLong(in, "fp");
        a.tn = MetricsIO.readNonNegativeVarLong(in, "tn");
        a.fn = MetricsIO.readNonNegativeVarLong(in, "fn");
        a.sumLogLoss = in.readDouble();
        a.sumBrier = in.readDouble();
        if (version == FORMAT_VERSION_EQUAL_WIDTH_BINS) {
            long[] posHist = new long[bins];
            long[] negHist = new long[bins];
            MetricsIO.readSparseCounts(in, posHist);
            MetricsIO.readSparseCounts(in, negHist);
            for (int i = 0; i < bins; i++) {
                float midpoint = (float) ((i + 0.5) / bins);
                if (posHist[i] > 0) {
                    a.roc.add(midpoint, true, posHist[i]);
                }
                if (negHist[i] > 0) {
                    a.roc.add(midpoint, false, negHist[i]);
                }
            }
        } else {
            a.roc = ScoreHistogram.readFrom(in);
            a.reliability = ReliabilityHistogram.readFrom(in);
            // fewer only if part of the events were restored from format 1
            if (a.reliability.count() > a.count()) {
                throw new IOException("corrupt BinaryQualityAccumulator: " + a.reliability.count()
                        + " events in the reliability bins, " + a.count() + " counted");
            }
        }
        if (a.roc.positives() != a.tp + a.fn || a.roc.negatives() != a.tn + a.fp) {
            throw new IOException("corrupt BinaryQualityAccumulator: histogram totals " + a.roc.positives() + "/"
                    + a.roc.negatives() + " do not match confusion counts " + (a.tp + a.fn) + "/" + (a.tn + a.fp));
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
                && tp == that.tp
                && fp == that.fp
                && tn == that.tn
                && fn == that.fn
                && Double.compare(sumLogLoss, that.sumLogLoss) == 0
                && Double.compare(sumBrier, that.sumBrier) == 0
                && roc.equals(that.roc)
                && reliability.equals(that.reliability);
    }

    @Override
    public int hashCode() {
        int h = Double.hashCode(threshold);
        h = 31 * h + Long.hashCode(tp);
        h = 31 * h + Long.hashCode(fp);
        h = 31 * h + Long.hashCode(tn);
        h = 31 * h + Long.hashCode(fn);
        h = 31 * h + Double.hashCode(sumLogLoss);
        h = 31 * h + Double.hashCode(sumBrier);
        h = 31 * h + roc.hashCode();
        return 31 * h + reliability.hashCode();
    }

    @Override
    public String toString() {
        return "BinaryQualityAccumulator{threshold=" + threshold + ", n=" + count() + ", tp=" + tp + ", fp=" + fp
                + ", tn=" + tn + ", fn=" + fn + "}";
    }
}
