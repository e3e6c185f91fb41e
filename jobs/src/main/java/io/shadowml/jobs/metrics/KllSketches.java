package io.shadowml.jobs.metrics;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

import org.apache.datasketches.common.SketchesArgumentException;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.memory.Memory;

/** Reading and writing the accumulators' KLL sketches: length-prefixed bytes, bounded on read. */
final class KllSketches {
    /** Sanity limit on a serialised sketch's size. */
    private static final int MAX_SKETCH_BYTES = 64 << 20;

    private KllSketches() {}

    static void write(DataOutput out, KllDoublesSketch sketch) throws IOException {
        byte[] bytes = sketch.toByteArray();
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    /** @param owner named in the error of a corrupt or oversized sketch */
    static KllDoublesSketch read(DataInput in, String owner) throws IOException {
        int len = in.readInt();
        if (len < 0 || len > MAX_SKETCH_BYTES) {
            throw new IOException("corrupt " + owner + ": sketch length " + len);
        }
        byte[] bytes = new byte[len];
        in.readFully(bytes);
        try {
            return KllDoublesSketch.heapify(Memory.wrap(bytes));
        } catch (SketchesArgumentException | IndexOutOfBoundsException e) {
            throw new IOException("corrupt " + owner + " sketch: " + e.getMessage(), e);
        }
    }

    static KllDoublesSketch copy(KllDoublesSketch sketch) {
        return KllDoublesSketch.heapify(Memory.wrap(sketch.toByteArray()));
    }
}
