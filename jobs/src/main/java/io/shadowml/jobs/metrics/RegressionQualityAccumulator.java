package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;

/**
 * Mergeable regression error metrics (MAE, RMSE, mean error) from a count and three double sums; see
 * jobs/METRICS.md, "Regression". Non-finite inputs are rejected with IllegalArgumentException (state
 * unchanged), so one bad event cannot poison the window. {@link #add} does not allocate. Not
 * thread-safe.
 */
public final class RegressionQualityAccumulator implements QualityAccumulator {

    private static final int FORMAT_VERSION = 1;

    private long count;
    private double sumAbs;
    private double sumSq;
    private double sumErr;

    public RegressionQualityAccumulator() {}

    public void add(double predicted, double actual) {
        double e = predicted - actual;
        if (!Double.isFinite(e) || !Double.isFinite(predicted) || !Double.isFinite(actual)) {
            throw new IllegalArgumentException(
                    "non-finite regression event: predicted=" + predicted + " actual=" + actual);
        }
        count++;
        sumAbs += Math.abs(e);
        sumSq += Loss.squaredError(predicted, actual);
        sumErr += e;
    }

    /** One slot, the predicted value; the label is the actual value. */
    @Override
    public void addLabelled(float[] outputs, int offset, double label) {
        add(outputs[offset], label);
    }

    public void merge(RegressionQualityAccumulator other) {
        count += other.count;
        sumAbs += other.sumAbs;
        sumSq += other.sumSq;
        sumErr += other.sumErr;
    }

    @Override
    public void merge(QualityAccumulator other) {
        if (!(other instanceof RegressionQualityAccumulator)) {
            throw new IllegalArgumentException(
                    "cannot merge a " + other.getClass().getSimpleName() + " into a RegressionQualityAccumulator");
        }
        merge((RegressionQualityAccumulator) other);
    }

    @Override
    public RegressionQualityAccumulator copy() {
        RegressionQualityAccumulator c = new RegressionQualityAccumulator();
        c.merge(this);
        return c;
    }

    /** No events. */
    @Override
    public RegressionQualityAccumulator emptyCopy() {
        return new RegressionQualityAccumulator();
    }

    @Override
    public long count() {
        return count;
    }

    public double mae() {
        return MetricsIO.mean(sumAbs, count);
    }

    public double rmse() {
        return count == 0 ? Double.NaN : Math.sqrt(sumSq / count);
    }

    public double meanError() {
        return MetricsIO.mean(sumErr, count);
    }

    @Override
    public void putMetrics(Map<String, Double> metrics) {
        metrics.put("mae", mae());
        metrics.put("rmse", rmse());
    }

    /** Format: version byte, count (varint), sum |e|, sum e², sum e (doubles). */
    @Override
    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        MetricsIO.writeVarLong(out, count);
        out.writeDouble(sumAbs);
        out.writeDouble(sumSq);
        out.writeDouble(sumErr);
    }

    public static RegressionQualityAccumulator readFrom(DataInput in) throws IOException {
        MetricsIO.checkVersion(in, FORMAT_VERSION, "RegressionQualityAccumulator");
        RegressionQualityAccumulator a = new RegressionQualityAccumulator();
        a.count = MetricsIO.readNonNegativeVarLong(in, "count");
        a.sumAbs = in.readDouble();
        a.sumSq = in.readDouble();
        a.sumErr = in.readDouble();
        return a;
    }

    /** Exact equality of the whole state (doubles compared bitwise). */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof RegressionQualityAccumulator)) {
            return false;
        }
        RegressionQualityAccumulator that = (RegressionQualityAccumulator) o;
        return count == that.count
                && Double.compare(sumAbs, that.sumAbs) == 0
                && Double.compare(sumSq, that.sumSq) == 0
                && Double.compare(sumErr, that.sumErr) == 0;
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(count);
        h = 31 * h + Double.hashCode(sumAbs);
        h = 31 * h + Double.hashCode(sumSq);
        return 31 * h + Double.hashCode(sumErr);
    }

    @Override
    public String toString() {
        return "RegressionQualityAccumulator{n=" + count + ", mae=" + mae() + ", rmse=" + rmse() + "}";
    }
}
