package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

/**
 * Counts of a binary classifier's float32 scores P(positive), by true class, in bins that resolve both
 * tails: the ROC AUC, its error bound and its DeLong interval come from these counts.
 *
 * <p><b>Bins.</b> A score p ≤ ½ is binned by the top {@value #MANTISSA_BITS} mantissa bits (and the
 * exponent) of p, a score p &gt; ½ by those of 1 − p (exact in float32), mirrored; a bin therefore spans
 * 2<sup>−{@value #MANTISSA_BITS}</sup> (0.2 %) of its distance to the nearer end of [0, 1], whether the
 * scores pile up at 10⁻⁶ or at 1 − 10⁻⁶. Equal-width bins put every confident score in the first or last
 * bin, where its pairs become ties (the overconfident credit MLP's holdout: 1000 equal-width bins give
 * 0.7590 against the exact 0.7735; these bins 0.77348, SaturatedScoreAucTest). Near ½ a bin is about 0.001 wide. Only the bins that occur are stored (a hash map of
 * primitive arrays), so the state grows with the spread of the scores, not with the bin count.
 *
 * <p><b>Exactness.</b> Binning is monotone in the score, so pairs in different bins are ordered as their
 * scores; only a positive and a negative sharing a bin can differ from the exact (ties = ½) AUC. Bins that
 * can hold a single float32 value (p = 0 or 1 exactly, and 1 − p below 2<sup>{@value #MANTISSA_BITS}−23</sup>,
 * where float32 is coarser than the bins) are exact ties. Hence |AUC − exact AUC| ≤ {@link #aucMaxError()}
 * = ½ Σ over the other bins of pos·neg / (P·N). Formulas: jobs/METRICS.md.
 *
 * <p>{@link #add} allocates only when a bin is seen for the first time or the table grows.
 */
final class ScoreHistogram {
    /** Mantissa bits kept per bin: bins of relative width 2⁻⁹. */
    static final int MANTISSA_BITS = 9;

    private static final int SHIFT = 23 - MANTISSA_BITS;
    /** The bin of p = ½ exactly, the last of the lower half. */
    private static final int HALF = lowerKey(0.5f);
    /** Largest exponent field of a 1 − p for which a bin holds one float32 value: 2^(e) ≤ 2^(m − 24). */
    private static final int SINGLE_VALUED_MAX_EXPONENT = MANTISSA_BITS - 24 + 127;

    private static final int EMPTY = -1;
    private static final int MAX_BINS = 2 * HALF + 2;

    private int[] keys;
    private long[] pos;
    private long[] neg;
    /** {@link #sortedBins()} until the next change; null = not computed. */
    private long[][] sorted;

    private int size;
    private long positives;
    private long negatives;

    ScoreHistogram() {
        this(16);
    }

    private ScoreHistogram(int capacity) {
        keys = new int[capacity];
        Arrays.fill(keys, EMPTY);
        pos = new long[capacity];
        neg = new long[capacity];
    }

    /** The bin of a score in [0, 1]; increasing in the score. */
    static int binOf(float p) {
        if (p <= 0.5f) {
            return lowerKey(p);
        }
        return 2 * HALF + 1 - lowerKey(1f - p);
    }

    /** Key of t in [0, ½]: 0 for t = 0 exactly, else 1 + the top exponent and mantissa bits of t. */
    private static int lowerKey(float t) {
        return t == 0f ? 0 : (Float.floatToRawIntBits(t) >>> SHIFT) + 1;
    }

    /** Whether every float32 score that falls in the bin is the same value (so shared pairs are exact ties). */
    static boolean singleValued(int bin) {
        if (bin == 0 || bin == 2 * HALF + 1) {
            return true; // p = 0, p = 1
        }
        if (bin <= HALF) {
            return false; // p itself has 24 significant bits below ½
        }
        int key = 2 * HALF + 1 - bin;
        int exponent = (key - 1) >>> MANTISSA_BITS;
        return exponent <= SINGLE_VALUED_MAX_EXPONENT;
    }

    void add(float score, boolean positive) {
        sorted = null;
        int slot = slotOf(binOf(score));
        if (positive) {
            pos[slot]++;
            positives++;
        } else {
            neg[slot]++;
            negatives++;
        }
    }

    /** Adds {@code n} ≥ 0 events of one class at one score (restoring coarser histograms). */
    void add(float score, boolean positive, long n) {
        sorted = null;
        int slot = slotOf(binOf(score));
        if (positive) {
            pos[slot] += n;
            positives += n;
        } else {
            neg[slot] += n;
            negatives += n;
        }
    }

    private int slotOf(int key) {
        int mask = keys.length - 1;
        int h = key * 0x9E3779B9;
        int i = (h ^ (h >>> 16)) & mask;
        while (keys[i] != key) {
            if (keys[i] == EMPTY) {
                if (2 * (size + 1) > keys.length) {
                    grow();
                    return slotOf(key);
                }
                keys[i] = key;
                size++;
                return i;
            }
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        int[] oldKeys = keys;
        long[] oldPos = pos;
        long[] oldNeg = neg;
        keys = new int[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        pos = new long[keys.length];
        neg = new long[keys.length];
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) {
                int slot = slotOf(oldKeys[i]);
                pos[slot] = oldPos[i];
                neg[slot] = oldNeg[i];
            }
        }
    }

    void merge(ScoreHistogram other) {
        sorted = null;
        for (int i = 0; i < other.keys.length; i++) {
            if (other.keys[i] != EMPTY) {
                int slot = slotOf(other.keys[i]);
                pos[slot] += other.pos[i];
                neg[slot] += other.neg[i];
            }
        }
        positives += other.positives;
        negatives += other.negatives;
    }

    ScoreHistogram copy() {
        ScoreHistogram c = new ScoreHistogram(keys.length);
        System.arraycopy(keys, 0, c.keys, 0, keys.length);
        System.arraycopy(pos, 0, c.pos, 0, pos.length);
        System.arraycopy(neg, 0, c.neg, 0, neg.length);
        c.size = size;
        c.positives = positives;
        c.negatives = negatives;
        return c;
    }

    long positives() {
        return positives;
    }

    long negatives() {
        return negatives;
    }

    /** Occupied bins. */
    int bins() {
        return size;
    }

    /**
     * The occupied bins in score order: {bin, positives, negatives} per row. Kept until the histogram
     * changes: a report asks for it several times (AUC, its variance, its interval) per model.
     */
    long[][] sortedBins() {
        if (sorted != null) {
            return sorted;
        }
        // Sort (key, slot) pairs packed into primitive longs: keys are ints, slots non-negative ints.
        long[] order = new long[size];
        int r = 0;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY) {
                order[r++] = ((long) keys[i] << 32) | i;
            }
        }
        Arrays.sort(order);
        long[][] rows = new long[size][];
        for (int k = 0; k < order.length; k++) {
            int slot = (int) order[k];
            rows[k] = new long[] {keys[slot], pos[slot], neg[slot]};
        }
        sorted = rows;
        return rows;
    }

    /** Mann–Whitney over the bins (a shared bin counts ½); NaN without both classes. */
    double auc() {
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        double wins = 0;
        double negBelow = 0;
        for (long[] row : sortedBins()) {
            wins += row[1] * (negBelow + 0.5 * row[2]);
            negBelow += row[2];
        }
        return wins / ((double) positives * negatives);
    }

    /** Bound on |{@link #auc()} − exact AUC|: half the share of pairs sharing a bin that is not a single value. */
    double aucMaxError() {
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        double shared = 0;
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != EMPTY && !singleValued(keys[i])) {
                shared += (double) pos[i] * neg[i];
            }
        }
        return 0.5 * shared / ((double) positives * negatives);
    }

    /**
     * DeLong's variance of the AUC from the binned scores (scores in one bin are ties): with the placement
     * of each positive V10 = (negatives below + ½ negatives in its bin) / N and of each negative
     * V01 = (positives above + ½ positives in its bin) / P, Var = S10 / P + S01 / N with S10, S01 their
     * sample variances. NaN with fewer than two of either class.
     */
    double aucVariance() {
        if (positives < 2 || negatives < 2) {
            return Double.NaN;
        }
        long[][] rows = sortedBins();
        double auc = auc();
        double s10 = 0;
        double negBelow = 0;
        for (long[] row : rows) {
            double v10 = (negBelow + 0.5 * row[2]) / negatives;
            s10 += row[1] * (v10 - auc) * (v10 - auc);
            negBelow += row[2];
        }
        double s01 = 0;
        double posAbove = 0;
        for (int r = rows.length - 1; r >= 0; r--) {
            double v01 = (posAbove + 0.5 * rows[r][1]) / positives;
            s01 += rows[r][2] * (v01 - auc) * (v01 - auc);
            posAbove += rows[r][1];
        }
        return s10 / (positives - 1) / positives + s01 / (negatives - 1) / negatives;
    }

    /**
     * Format: occupied bins (varint), then per bin in ascending order the gap to the previous bin, the
     * positives and the negatives (varints).
     */
    void writeTo(DataOutput out) throws IOException {
        long[][] rows = sortedBins();
        MetricsIO.writeVarLong(out, rows.length);
        long previous = 0;
        for (long[] row : rows) {
            MetricsIO.writeVarLong(out, row[0] - previous);
            MetricsIO.writeVarLong(out, row[1]);
            MetricsIO.writeVarLong(out, row[2]);
            previous = row[0];
        }
    }

    static ScoreHistogram readFrom(DataInput in) throws IOException {
        long bins = MetricsIO.readNonNegativeVarLong(in, "bins");
        if (bins > MAX_BINS) {
            throw new IOException("corrupt ScoreHistogram: " + bins + " bins");
        }
        ScoreHistogram h = new ScoreHistogram(Math.max(16, Integer.highestOneBit((int) Math.max(1, bins)) * 4));
        long key = 0;
        for (long i = 0; i < bins; i++) {
            long gap = MetricsIO.readNonNegativeVarLong(in, "bin gap");
            key += gap;
            if ((i > 0 && gap == 0) || key >= MAX_BINS) {
                throw new IOException("corrupt ScoreHistogram: bin " + key + " out of order or range");
            }
            int slot = h.slotOf((int) key);
            h.pos[slot] = MetricsIO.readNonNegativeVarLong(in, "positives");
            h.neg[slot] = MetricsIO.readNonNegativeVarLong(in, "negatives");
            h.positives += h.pos[slot];
            h.negatives += h.neg[slot];
        }
        return h;
    }

    /** Same counts in the same bins. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ScoreHistogram && Arrays.deepEquals(sortedBins(), ((ScoreHistogram) o).sortedBins());
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(sortedBins());
    }
}
