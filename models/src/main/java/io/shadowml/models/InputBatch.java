package io.shadowml.models;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Rows to score, written straight into one reused direct, native-order {@link FloatBuffer} of
 * {@code maxBatchSize * featureCount} floats that {@link OnnxModel#score(InputBatch)} hands to
 * ONNX Runtime without copying. Get one from {@link OnnxModel#newInputBatch()}; it belongs to that
 * model and, like it, to one thread.
 *
 * <p>Two ways to fill a row, neither allocates:
 *
 * <pre>{@code
 * batch.clear();
 * batch.addRow(featuresOfRecord1);            // a whole float[featureCount]
 * batch.set(0, amount).set(3, hour).endRow(); // column by column; unset columns are 0
 * PredictionBatch out = model.score(batch);
 * }</pre>
 */
public final class InputBatch {
    final OnnxModel owner;
    final FloatBuffer buffer;
    private final int featureCount;
    private final int capacity;
    private int rows;
    /** Whether {@link #set} has started the row at index {@code rows}. */
    private boolean pending;

    InputBatch(OnnxModel owner, int featureCount, int capacity) {
        this.owner = owner;
        this.featureCount = featureCount;
        this.capacity = capacity;
        int floats = Math.multiplyExact(capacity, featureCount);
        this.buffer = ByteBuffer.allocateDirect(Math.multiplyExact(floats, Float.BYTES))
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    /** Forgets all rows (and an unfinished one); the buffer is reused. */
    public InputBatch clear() {
        rows = 0;
        pending = false;
        return this;
    }

    /** Finished rows. */
    public int rows() {
        return rows;
    }

    /** The most rows this batch holds ({@link ModelOptions#maxBatchSize()}). */
    public int capacity() {
        return capacity;
    }

    public int featureCount() {
        return featureCount;
    }

    public boolean isFull() {
        return rows == capacity;
    }

    /** Whether {@link #set} started a row that {@link #endRow()} has not finished yet. */
    public boolean hasUnfinishedRow() {
        return pending;
    }

    /**
     * Appends a whole row.
     *
     * @throws IllegalArgumentException if {@code row.length != featureCount()}
     * @throws IllegalStateException if the batch is full or a row started with {@link #set} is
     *     unfinished
     */
    public InputBatch addRow(float[] row) {
        if (row.length != featureCount) {
            throw new IllegalArgumentException("row has " + row.length + " values, the model takes " + featureCount);
        }
        if (pending) {
            throw new IllegalStateException("addRow() while a row started with set() is unfinished");
        }
        checkRoom();
        buffer.put(rows * featureCount, row);
        rows++;
        return this;
    }

    /**
     * Sets column {@code col} of the row being built (the row after the last finished one); the
     * first {@code set} of a row zeroes it.
     */
    public InputBatch set(int col, float value) {
        if (col < 0 || col >= featureCount) {
            throw new IndexOutOfBoundsException("column " + col + " of " + featureCount);
        }
        if (!pending) {
            checkRoom();
            zeroRow(rows);
            pending = true;
        }
        buffer.put(rows * featureCount + col, value);
        return this;
    }

    /** Finishes the row being built by {@link #set}; a row without any {@code set} is all zeros. */
    public InputBatch endRow() {
        if (!pending) {
            checkRoom();
            zeroRow(rows);
        }
        pending = false;
        rows++;
        return this;
    }

    /** A value already written: {@code row <= rows()} (the unfinished row can be read too). */
    public float get(int row, int col) {
        if (row < 0 || row > rows || (row == rows && !pending) || col < 0 || col >= featureCount) {
            throw new IndexOutOfBoundsException("row " + row + " column " + col);
        }
        return buffer.get(row * featureCount + col);
    }

    private void checkRoom() {
        if (rows == capacity) {
            throw new IllegalStateException("batch is full (" + capacity + " rows); score and clear it");
        }
    }

    private void zeroRow(int row) {
        int base = row * featureCount;
        for (int i = 0; i < featureCount; i++) {
            buffer.put(base + i, 0f);
        }
    }

    @Override
    public String toString() {
        return "InputBatch{rows=" + rows + ", capacity=" + capacity + ", features=" + featureCount
                + (pending ? ", unfinished row" : "") + "}";
    }
}
