package io.shadowml.models;

import java.nio.FloatBuffer;

import io.shadowml.models.ModelDescriptor.Task;

/**
 * The outputs of one {@link OnnxModel#score(InputBatch)} call, normalised by task. The model owns
 * one instance and refills it on every call: read it before the next {@code score}, and copy out
 * what must outlive that. Reading allocates nothing.
 *
 * <ul>
 *   <li>binary: {@link #score(int)} = P(positive class); {@link #predictedClass(int)} = 1 if
 *       {@code score >= (float) threshold} else 0 (compared in the score's float32 precision, so a
 *       score of 0.7f counts as positive at threshold 0.7, although 0.7f &lt; 0.7 as doubles); {@link #probability(int, int)} with k = 0 (negative) or
 *       1 (positive), whichever output column holds the positive class;
 *   <li>multiclass: {@code score} = probability of the argmax class, {@code predictedClass} = the
 *       argmax (lowest index on ties), {@code probability(i, k)} = output column k;
 *   <li>regression: {@code score} = {@link #value(int)} = the output; {@code predictedClass} = -1;
 *       there are no class probabilities.
 * </ul>
 */
public final class PredictionBatch {
    private final Task task;
    private final int columns;
    private final int positiveColumn;
    private final int numClasses;
    /** The threshold rounded to float32, the precision of the scores it is compared with. */
    private final float threshold;

    private final float[] values;
    private final int[] argmax;
    private int rows;

    PredictionBatch(Task task, int columns, int positiveColumn, int numClasses, double threshold, int capacity) {
        this.task = task;
        this.columns = columns;
        this.positiveColumn = positiveColumn;
        this.numClasses = numClasses;
        this.threshold = (float) threshold;
        this.values = new float[Math.multiplyExact(capacity, columns)];
        this.argmax = task == Task.MULTICLASS ? new int[capacity] : null;
    }

    /** Copies {@code rows * columns} outputs from ONNX Runtime's tensor. */
    void fill(FloatBuffer out, int rows) {
        out.get(values, 0, rows * columns);
        this.rows = rows;
        if (argmax != null) {
            for (int i = 0; i < rows; i++) {
                int base = i * columns;
                int best = 0;
                float bestP = values[base];
                for (int k = 1; k < columns; k++) {
                    if (values[base + k] > bestP) {
                        bestP = values[base + k];
                        best = k;
                    }
                }
                argmax[i] = best;
            }
        }
    }

    void reset() {
        rows = 0;
    }

    public int rows() {
        return rows;
    }

    public Task task() {
        return task;
    }

    /** Number of classes: 2 (binary), K (multiclass), 1 (regression). */
    public int numClasses() {
        return numClasses;
    }

    /** binary: P(positive); multiclass: probability of the predicted class; regression: value. */
    public float score(int i) {
        checkRow(i);
        switch (task) {
            case BINARY:
                return values[i * columns + positiveColumn];
            case MULTICLASS:
                return values[i * columns + argmax[i]];
            default:
                return values[i];
        }
    }

    /** binary: 1 if score >= (float) threshold else 0; multiclass: argmax; regression: -1. */
    public int predictedClass(int i) {
        checkRow(i);
        switch (task) {
            case BINARY:
                return values[i * columns + positiveColumn] >= threshold ? 1 : 0;
            case MULTICLASS:
                return argmax[i];
            default:
                return -1;
        }
    }

    /**
     * Probability of class {@code k} for row {@code i}; binary: k = 1 is the positive class.
     *
     * @throws IllegalStateException for a regression model
     */
    public float probability(int i, int k) {
        checkRow(i);
        if (k < 0 || k >= numClasses) {
            throw new IndexOutOfBoundsException("class " + k + " of " + numClasses);
        }
        switch (task) {
            case BINARY:
                if (columns == 1) {
                    return k == 1 ? values[i] : 1f - values[i];
                }
                return values[i * 2 + (k == 1 ? positiveColumn : 1 - positiveColumn)];
            case MULTICLASS:
                return values[i * columns + k];
            default:
                throw new IllegalStateException("a regression model has no class probabilities");
        }
    }

    /** Writes the {@link #numClasses()} probabilities of row {@code i} into {@code dst[0..K)}. */
    public void copyProbabilities(int i, float[] dst) {
        checkRow(i);
        if (dst.length < numClasses) {
            throw new IllegalArgumentException("dst has " + dst.length + " slots, need " + numClasses);
        }
        if (task == Task.MULTICLASS) {
            System.arraycopy(values, i * columns, dst, 0, columns);
        } else {
            for (int k = 0; k < numClasses; k++) {
                dst[k] = probability(i, k);
            }
        }
    }

    /**
     * The regression output of row {@code i}.
     *
     * @throws IllegalStateException for a classification model
     */
    public float value(int i) {
        if (task != Task.REGRESSION) {
            throw new IllegalStateException("value() is for regression models; this one is "
                    + task.name().toLowerCase(java.util.Locale.ROOT));
        }
        checkRow(i);
        return values[i];
    }

    /** Columns of the model's output tensor (2 or 1 binary, K multiclass, 1 regression). */
    public int outputColumns() {
        return columns;
    }

    /** The raw output tensor value at row {@code i}, column {@code col}, as ONNX Runtime gave it. */
    public float raw(int i, int col) {
        checkRow(i);
        if (col < 0 || col >= columns) {
            throw new IndexOutOfBoundsException("column " + col + " of " + columns);
        }
        return values[i * columns + col];
    }

    private void checkRow(int i) {
        if (i < 0 || i >= rows) {
            throw new IndexOutOfBoundsException("row " + i + " of " + rows);
        }
    }

    @Override
    public String toString() {
        return "PredictionBatch{" + task + ", rows=" + rows + ", columns=" + columns + "}";
    }
}
