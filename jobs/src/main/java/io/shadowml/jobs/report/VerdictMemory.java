package io.shadowml.jobs.report;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.typeinfo.TypeInfo;

import io.shadowml.stats.Interval;

/**
 * What the verdict remembers between windows, per candidate, so that decisions stay valid and sticky
 * under continuous looking: the running intersection of each test's confidence sequence (itself a
 * confidence sequence, and never wider than the latest), the largest e-value each e-process reached
 * (its always-valid p-value can only fall), and the first PROMOTE or REJECT with its reasons, which
 * stands from then on. Kept in the report assembler's keyed state.
 */
@TypeInfo(VerdictMemoryTypeInfoFactory.class)
public final class VerdictMemory {
    private static final int FORMAT_VERSION = 1;

    private final Map<String, Candidate> candidates = new LinkedHashMap<>();

    /** The memory of one candidate, created empty on first use. */
    public Candidate candidate(String id) {
        return candidates.computeIfAbsent(id, k -> new Candidate());
    }

    /** Drops a candidate's memory (a retired candidate whose final verdict is out). */
    public void forget(String id) {
        candidates.remove(id);
    }

    public VerdictMemory copy() {
        VerdictMemory c = new VerdictMemory();
        for (Map.Entry<String, Candidate> e : candidates.entrySet()) {
            c.candidates.put(e.getKey(), e.getValue().copy());
        }
        return c;
    }

    /** One candidate's memory. */
    public static final class Candidate {
        /** The decision reached, or null while none is. */
        String decision;

        long firstDecidedAt = -1;
        List<String> decisiveReasons = new ArrayList<>();
        final Map<String, Interval> intervals = new LinkedHashMap<>();
        final Map<String, Double> maxLogEValues = new LinkedHashMap<>();

        /** Intersects the test's interval with what it allowed before; returns the intersection. */
        Interval narrow(String test, Interval latest) {
            Interval previous = intervals.get(test);
            Interval now = previous == null ? latest : previous.intersect(latest);
            intervals.put(test, now);
            return now;
        }

        /** Records an e-process's latest log e-value; returns the largest so far. */
        double raise(String test, double logEValue) {
            double max = Math.max(logEValue, maxLogEValues.getOrDefault(test, 0.0));
            maxLogEValues.put(test, max);
            return max;
        }

        boolean decided() {
            return decision != null;
        }

        void decide(String decision, long at, List<String> reasons) {
            this.decision = decision;
            this.firstDecidedAt = at;
            this.decisiveReasons = new ArrayList<>(reasons);
        }

        Candidate copy() {
            Candidate c = new Candidate();
            c.decision = decision;
            c.firstDecidedAt = firstDecidedAt;
            c.decisiveReasons = new ArrayList<>(decisiveReasons);
            c.intervals.putAll(intervals);
            c.maxLogEValues.putAll(maxLogEValues);
            return c;
        }
    }

    void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeInt(candidates.size());
        for (Map.Entry<String, Candidate> e : candidates.entrySet()) {
            Candidate c = e.getValue();
            out.writeUTF(e.getKey());
            out.writeBoolean(c.decision != null);
            if (c.decision != null) {
                out.writeUTF(c.decision);
            }
            out.writeLong(c.firstDecidedAt);
            out.writeInt(c.decisiveReasons.size());
            for (String r : c.decisiveReasons) {
                out.writeUTF(r);
            }
            out.writeInt(c.intervals.size());
            for (Map.Entry<String, Interval> i : c.intervals.entrySet()) {
                out.writeUTF(i.getKey());
                out.writeDouble(i.getValue().low());
                out.writeDouble(i.getValue().high());
            }
            out.writeInt(c.maxLogEValues.size());
            for (Map.Entry<String, Double> m : c.maxLogEValues.entrySet()) {
                out.writeUTF(m.getKey());
                out.writeDouble(m.getValue());
            }
        }
    }

    static VerdictMemory readFrom(DataInput in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != FORMAT_VERSION) {
            throw new IOException("unknown VerdictMemory format " + version);
        }
        VerdictMemory m = new VerdictMemory();
        int candidates = count(in);
        for (int k = 0; k < candidates; k++) {
            Candidate c = m.candidate(in.readUTF());
            c.decision = in.readBoolean() ? in.readUTF() : null;
            c.firstDecidedAt = in.readLong();
            int reasons = count(in);
            for (int r = 0; r < reasons; r++) {
                c.decisiveReasons.add(in.readUTF());
            }
            int intervals = count(in);
            for (int i = 0; i < intervals; i++) {
                String test = in.readUTF();
                double low = in.readDouble();
                double high = in.readDouble();
                try {
                    c.intervals.put(test, new Interval(low, high));
                } catch (IllegalArgumentException e) {
                    throw new IOException("corrupt VerdictMemory: " + e.getMessage(), e);
                }
            }
            int eValues = count(in);
            for (int i = 0; i < eValues; i++) {
                c.maxLogEValues.put(in.readUTF(), in.readDouble());
            }
        }
        return m;
    }

    private static int count(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > (1 << 20)) {
            throw new IOException("corrupt VerdictMemory: count " + n);
        }
        return n;
    }
}
