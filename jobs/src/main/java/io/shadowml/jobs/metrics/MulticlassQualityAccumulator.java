package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Mergeable quality metrics of a K-class classifier: the K×K confusion matrix (row = true class,
 * column = predicted class), accuracy, macro F1, log loss, and the top-label reliability bins with the
 * expected calibration error. Definitions and NaN cases: jobs/METRICS.md, "Multiclass classification".
 *
 * <p>{@link #add} does not allocate. State: K² + 1 longs, one double and 10 reliability bins;
 * serialised with only the non-zero cells. Not thread-safe.
 */
public final class MulticlassQualityAccumulator implements QualityAccumulator {

    /** Upper limit of numClasses (the matrix is K²). */
    public static final int MAX_CLASSES = 4096;

    /** 2: with reliability bins. 1 (release 0.1.0): without, still read (the bins start empty). */
    private static final int FORMAT_VERSION = 2;

    private static final int FORMAT_VERSION_WITHOUT_RELIABILITY = 1;

    private final int numClasses;
    /** Row-major K×K, index = trueClass·K + predictedClass. */
    private final long[] confusion;

    private long count;
    private double sumLogLoss;
    private ReliabilityHistogram reliability = new ReliabilityHistogram();

    public MulticlassQualityAccumulator(int numClasses) {
        if (numClasses < 2 || numClasses > MAX_CLASSES) {
            throw new IllegalArgumentException("numClasses must be in [2, " + MAX_CLASSES + "]: " + numClasses);
        }
        this.numClasses = numClasses;
        this.confusion = new long[numClasses * numClasses];
    }

    /**
     * Adds one labelled event.
     *
     * @param probabilities the model's class probabilities, length numClasses; only
     *     {@code probabilities[trueClass]} (log loss, must not be NaN) and
     *     {@code probabilities[predictedClass]} (the top-label confidence, clamped to [0, 1]) are read
     * @param predictedClass the class the model decided, in [0, numClasses)
     * @param trueClass the label, in [0, numClasses)
     * @throws IllegalArgumentException on bad input (the state is then unchanged)
     */
    public void add(float[] probabilities, int predictedClass, int trueClass) {
        checkClasses(predictedClass, trueClass);
        if (probabilities.length != numClasses) {
            throw new IllegalArgumentException(
                    "probabilities length " + probabilities.length + " != numClasses " + numClasses);
        }
        addChecked(probabilities, 0, predictedClass, trueClass);
    }

    /**
     * K slots, the class probabilities; the predicted class is the top one (ties to the lowest, as
     * {@link ModelLayout#decision}), the label the true class.
     */
    @Override
    public void addLabelled(float[] outputs, int offset, double label) {
        int predictedClass = ModelLayout.argmax(outputs, offset, numClasses);
        int trueClass = (int) label;
        checkClasses(predictedClass, trueClass);
        addChecked(outputs, offset, predictedClass, trueClass);
    }

    private void checkClasses(int predictedClass, int trueClass) {
        if (predictedClass < 0 || predictedClass >= numClasses || trueClass < 0 || trueClass >= numClasses) {
            throw new IllegalArgumentException(
                    "class out of range [0, " + numClasses + "): predicted=" + predictedClass + " true=" + trueClass);
        }
    }

    /** Adds one event with classes in range, whose probabilities start at {@code outputs[offset]}. */
    private void addChecked(float[] outputs, int offset, int predictedClass, int trueClass) {
        double p = outputs[offset + trueClass];
        if (Double.isNaN(p)) {
            throw new IllegalArgumentException("probability of the true class is NaN");
        }
        float confidence = outputs[offset + predictedClass];
        if (!Float.isNaN(confidence)) {
            // Softmax outputs may round a hair above 1; the bins are over [0, 1].
            reliability.add(Math.min(Math.max(confidence, 0f), 1f), predictedClass == trueClass);
        }
        confusion[trueClass * numClasses + predictedClass]++;
        count++;
        sumLogLoss += Loss.logLoss(p);
    }

    public void merge(MulticlassQualityAccumulator other) {
        if (numClasses != other.numClasses) {
            throw new IllegalArgumentException(
                    "cannot merge accumulators with " + numClasses + " and " + other.numClasses + " classes");
        }
        for (int i = 0; i < confusion.length; i++) {
            confusion[i] += other.confusion[i];
        }
        count += other.count;
        sumLogLoss += other.sumLogLoss;
        reliability.merge(other.reliability);
    }

    @Override
    public void merge(QualityAccumulator other) {
        if (!(other instanceof MulticlassQualityAccumulator)) {
            throw new IllegalArgumentException(
                    "cannot merge a " + other.getClass().getSimpleName() + " into a MulticlassQualityAccumulator");
        }
        merge((MulticlassQualityAccumulator) other);
    }

    @Override
    public MulticlassQualityAccumulator copy() {
        MulticlassQualityAccumulator c = new MulticlassQualityAccumulator(numClasses);
        c.merge(this);
        return c;
    }

    /** No events, over this accumulator's classes. */
    @Override
    public MulticlassQualityAccumulator emptyCopy() {
        return new MulticlassQualityAccumulator(numClasses);
    }

    // ---------------------------------------------------------------- getters

    public int numClasses() {
        return numClasses;
    }

    @Override
    public long count() {
        return count;
    }

    /** Number of events with this true class and this predicted class. */
    public long confusion(int trueClass, int predictedClass) {
        return confusion[trueClass * numClasses + predictedClass];
    }

    /** A fresh copy of the confusion matrix, {@code [trueClass][predictedClass]}. */
    public long[][] confusionMatrix() {
        long[][] m = new long[numClasses][];
        for (int t = 0; t < numClasses; t++) {
            m[t] = Arrays.copyOfRange(confusion, t * numClasses, (t + 1) * numClasses);
        }
        return m;
    }

    public double accuracy() {
        long correct = 0;
        for (int k = 0; k < numClasses; k++) {
            correct += confusion[k * numClasses + k];
        }
        return MetricsIO.ratio(correct, count);
    }

    /** F1 of class k: 2tp/(2tp+fp+fn); NaN when the class occurs neither as true nor as predicted. */
    public double f1(int k) {
        long tp = confusion[k * numClasses + k];
        long rowSum = 0; // tp + fn
        long colSum = 0; // tp + fp
        for (int j = 0; j < numClasses; j++) {
            rowSum += confusion[k * numClasses + j];
            colSum += confusion[j * numClasses + k];
        }
        return MetricsIO.ratio(2 * tp, rowSum + colSum);
    }

    /** The classes present: seen as a true or a predicted class at least once. */
    public boolean[] presentClasses() {
        boolean[] present = new boolean[numClasses];
        for (int t = 0; t < numClasses; t++) {
            for (int q = 0; q < numClasses; q++) {
                if (confusion[t * numClasses + q] != 0) {
                    present[t] = true;
                    present[q] = true;
                }
            }
        }
        return present;
    }

    /** Mean of {@link #f1(int)} over the classes present in this model's events (scikit-learn's default). */
    public double macroF1() {
        return macroF1(presentClasses());
    }

    /**
     * Mean of F1 over the classes with {@code classes[k]} set, so that models can be compared over the
     * same class set (the report passes the union over its models). A class in the set that this model
     * neither saw nor predicted counts 1: it made no error on it. NaN if the set is empty or n = 0.
     */
    public double macroF1(boolean[] classes) {
        if (classes.length != numClasses) {
            throw new IllegalArgumentException("class set of " + classes.length + " for " + numClasses + " classes");
        }
        if (count == 0) {
            return Double.NaN;
        }
        double sum = 0.0;
        int n = 0;
        for (int k = 0; k < numClasses; k++) {
            if (classes[k]) {
                double f = f1(k);
                sum += Double.isNaN(f) ? 1.0 : f;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Expected calibration error of the top-label confidence; NaN before any event (since 0.1.0 state). */
    public double ece() {
        return reliability.ece();
    }

    /** Reliability bins of the top-label confidence against top-1 accuracy (Guo et al. 2017). */
    @Override
    public List<ReliabilityHistogram.Bin> reliability() {
        return reliability.bins();
    }

    public double logLoss() {
        return MetricsIO.mean(sumLogLoss, count);
    }

    @Override
    public void putMetrics(Map<String, Double> metrics) {
        metrics.put("accuracy", accuracy());
        metrics.put("macro_f1", macroF1());
        metrics.put("log_loss", logLoss());
        metrics.put("ece", ece());
    }

    // ---------------------------------------------------------------- serialisation

    /**
     * Format 2: version byte, numClasses (int), sum of log loss (double), non-zero confusion cells, the
     * reliability bins ({@link ReliabilityHistogram#writeTo}). Format 1 ends before the bins.
     */
    @Override
    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeInt(numClasses);
        out.writeDouble(sumLogLoss);
        MetricsIO.writeSparseCounts(out, confusion);
        reliability.writeTo(out);
    }

    /** Reads format 2, or format 1 (release 0.1.0), whose state starts with empty reliability bins. */
    public static MulticlassQualityAccumulator readFrom(DataInput in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != FORMAT_VERSION && version != FORMAT_VERSION_WITHOUT_RELIABILITY) {
            throw new IOException("unsupported MulticlassQualityAccumulator format version " + version);
        }
        int k = in.readInt();
        MulticlassQualityAccumulator a;
        try {
            a = new MulticlassQualityAccumulator(k);
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt MulticlassQualityAccumulator: " + e.getMessage(), e);
        }
        a.sumLogLoss = in.readDouble();
        a.count = MetricsIO.readSparseCounts(in, a.confusion);
        if (version == FORMAT_VERSION) {
            a.reliability = ReliabilityHistogram.readFrom(in);
            if (a.reliability.count() > a.count) {
                throw new IOException("corrupt MulticlassQualityAccumulator: " + a.reliability.count()
                        + " events in the reliability bins, " + a.count + " counted");
            }
        }
        return a;
    }

    /** Exact equality of the whole state (doubles compared bitwise). */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof MulticlassQualityAccumulator)) {
            return false;
        }
        MulticlassQualityAccumulator that = (MulticlassQualityAccumulator) o;
        return numClasses == that.numClasses
                && count == that.count
                && Double.compare(sumLogLoss, that.sumLogLoss) == 0
                && Arrays.equals(confusion, that.confusion)
                && reliability.equals(that.reliability);
    }

    @Override
    public int hashCode() {
        int h = numClasses;
        h = 31 * h + Long.hashCode(count);
        h = 31 * h + Double.hashCode(sumLogLoss);
        h = 31 * h + reliability.hashCode();
        return 31 * h + Arrays.hashCode(confusion);
    }

    @Override
    public String toString() {
        return "MulticlassQualityAccumulator{k=" + numClasses + ", n=" + count + "}";
    }
}
