package io.shadowml.jobs.join;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;

import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.types.StringValue;

import io.shadowml.jobs.serialization.VarInts;

/**
 * Everything the label join keeps for one request id, in one state value, so that a record costs one
 * state read and at most one write: the prediction while it waits for its label, a label that arrived
 * first, and, once joined, until when another label is a duplicate. Kept in state in its serialized form
 * (one byte array per request, also on the heap backend: a handful of long-lived objects per pending
 * request made the young collections copy the whole join state).
 *
 * <p>Serialized compactly ({@link #writeTo}): one byte of flags (which parts are present; the top three
 * bits were the format version 0, the lowest is now the served-by-an-arm flag 32, the next the live-generation flag 64, the top one
 * remains the version, 0), then the present parts: event time and label time as zig-zag
 * varints, the outputs as a varint count and 4 bytes each, the error mask as a varint, the mask of
 * models that did not score the request (only when not 0, flag 16), the segment
 * values in Flink's string format (a missing value is one byte), the label value as 8 bytes, the
 * marker's end as a varint. A fraud prediction (2 outputs, segments [EU, web]) is 25 bytes.
 */
public final class JoinEntry {
    private static final int PREDICTION = 1;
    private static final int LABEL = 2;
    private static final int JOINED = 4;
    private static final int SEGMENTS = 8;
    /** The prediction has models that did not score it (candidate_sample_rates); entries without: 0. */
    private static final int ABSENT = 16;
    /**
     * The prediction was served by a canary arm: its index and business value follow (5 bytes). Was the
     * lowest of the three format-version bits, which no entry ever set (version 0 is the only one).
     */
    private static final int SERVED = 32;

    /**
     * Scored by a live generation after a SWITCH_LIVE: its number follows as a varint. Was the lower of
     * the two remaining format-version bits, which no entry ever set.
     */
    private static final int GENERATION = 64;

    private static final int VERSION_MASK = 0x80;

    /** The prediction, or null. */
    public PendingPrediction prediction;
    /** A label that has not joined yet, or null. */
    public EarlyLabel label;
    /** Set once joined: until this time, another label is a duplicate; null otherwise. */
    public Long joinedUntil;

    public boolean isEmpty() {
        return prediction == null && label == null && joinedUntil == null;
    }

    public void writeTo(DataOutput out) throws IOException {
        PendingPrediction p = prediction;
        int flags = (p != null ? PREDICTION : 0)
                | (label != null ? LABEL : 0)
                | (joinedUntil != null ? JOINED : 0)
                | (p != null && p.segments != null ? SEGMENTS : 0)
                | (p != null && p.absentMask != 0 ? ABSENT : 0)
                | (p != null && p.arm >= 0 ? SERVED : 0)
                | (p != null && p.liveGeneration > 0 ? GENERATION : 0);
        out.writeByte(flags);
        if (p != null) {
            VarInts.writeVarLong(out, zigZag(p.eventTime));
            float[] outputs = p.outputs == null ? new float[0] : p.outputs;
            VarInts.writeVarLong(out, outputs.length);
            for (float v : outputs) {
                out.writeFloat(v);
            }
            VarInts.writeVarLong(out, p.errorMask);
            if (p.absentMask != 0) {
                VarInts.writeVarLong(out, p.absentMask);
            }
            if (p.segments != null) {
                VarInts.writeVarLong(out, p.segments.length);
                for (String s : p.segments) {
                    StringValue.writeString(s, out);
                }
            }
            if (p.arm >= 0) {
                out.writeByte(p.arm);
                out.writeFloat(p.businessValue);
            }
            if (p.liveGeneration > 0) {
                VarInts.writeVarLong(out, p.liveGeneration);
            }
        }
        if (label != null) {
            VarInts.writeVarLong(out, zigZag(label.labelTime));
            out.writeDouble(label.value);
        }
        if (joinedUntil != null) {
            VarInts.writeVarLong(out, zigZag(joinedUntil));
        }
    }

    /** The serialized form, as the join keeps it in state. */
    public byte[] toBytes(DataOutputSerializer buffer) throws IOException {
        buffer.clear();
        writeTo(buffer);
        return buffer.getCopyOfBuffer();
    }

    public static JoinEntry fromBytes(byte[] bytes, DataInputDeserializer buffer) throws IOException {
        buffer.setBuffer(bytes);
        return readFrom(buffer);
    }

    public static JoinEntry readFrom(DataInput in) throws IOException {
        int flags = in.readUnsignedByte();
        if ((flags & VERSION_MASK) != 0) {
            throw new IOException("join entry of an unknown format version " + ((flags & VERSION_MASK) >>> 7));
        }
        JoinEntry e = new JoinEntry();
        if ((flags & PREDICTION) != 0) {
            PendingPrediction p = new PendingPrediction();
            p.eventTime = unZigZag(VarInts.readVarLong(in));
            p.outputs = new float[checkedLength(VarInts.readVarLong(in))];
            for (int i = 0; i < p.outputs.length; i++) {
                p.outputs[i] = in.readFloat();
            }
            p.errorMask = VarInts.readVarLong(in);
            if ((flags & ABSENT) != 0) {
                p.absentMask = VarInts.readVarLong(in);
            }
            if ((flags & SEGMENTS) != 0) {
                p.segments = new String[checkedLength(VarInts.readVarLong(in))];
                for (int i = 0; i < p.segments.length; i++) {
                    p.segments[i] = StringValue.readString(in);
                }
            }
            if ((flags & SERVED) != 0) {
                p.arm = in.readByte();
                p.businessValue = in.readFloat();
            }
            if ((flags & GENERATION) != 0) {
                p.liveGeneration = checkedLength(VarInts.readVarLong(in));
            }
            e.prediction = p;
        }
        if ((flags & LABEL) != 0) {
            long time = unZigZag(VarInts.readVarLong(in));
            e.label = new EarlyLabel(time, in.readDouble());
        }
        if ((flags & JOINED) != 0) {
            e.joinedUntil = unZigZag(VarInts.readVarLong(in));
        }
        return e;
    }

    private static int checkedLength(long n) throws IOException {
        if (n < 0 || n > 1 << 16) {
            throw new IOException("corrupt join entry: array length " + n);
        }
        return (int) n;
    }

    private static long zigZag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    private static long unZigZag(long v) {
        return (v >>> 1) ^ -(v & 1);
    }

    @Override
    public String toString() {
        PendingPrediction p = prediction;
        return "JoinEntry{prediction="
                + (p == null
                        ? "-"
                        : p.eventTime + Arrays.toString(p.outputs) + "/" + p.errorMask
                                + (p.absentMask == 0 ? "" : "/absent " + p.absentMask)
                                + (p.arm < 0 ? "" : "/arm " + p.arm + " business " + p.businessValue)
                                + (p.liveGeneration == 0 ? "" : "/generation " + p.liveGeneration)
                                + Arrays.toString(p.segments))
                + ", label=" + (label == null ? "-" : label.labelTime + "=" + label.value)
                + ", joinedUntil=" + joinedUntil + "}";
    }
}
