package io.shadowml.jobs.validate;

import java.io.Serializable;
import java.util.Map;

/**
 * Size limits of the strings a request or label carries into the job's state and outputs (config {@code
 * limits}). A scored event copies a request's ids and segments; without a bound, a 1 MB request id would
 * make a record the producer refuses to send ({@code max.request.size}) and fail the sink. A record over a
 * limit is a dead letter; nothing is truncated silently.
 */
public final class InputLimits implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final int DEFAULT_MAX_ID_LENGTH = 256;
    public static final int DEFAULT_MAX_SEGMENTS = 32;
    public static final int DEFAULT_MAX_SEGMENT_LENGTH = 256;

    public static final InputLimits DEFAULTS =
            new InputLimits(DEFAULT_MAX_ID_LENGTH, DEFAULT_MAX_SEGMENTS, DEFAULT_MAX_SEGMENT_LENGTH);

    private final int maxIdLength;
    private final int maxSegments;
    private final int maxSegmentLength;

    public InputLimits(int maxIdLength, int maxSegments, int maxSegmentLength) {
        this.maxIdLength = maxIdLength;
        this.maxSegments = maxSegments;
        this.maxSegmentLength = maxSegmentLength;
    }

    /** Why the id in {@code field} is too long, or null (a null id is not this check's business). */
    public String idProblem(String field, String id) {
        if (id != null && id.length() > maxIdLength) {
            return field + " has " + id.length() + " characters, more than limits.max_id_length " + maxIdLength;
        }
        return null;
    }

    public String segmentsProblem(Map<String, String> segments) {
        if (segments == null) {
            return null;
        }
        if (segments.size() > maxSegments) {
            return "segments has " + segments.size() + " entries, more than limits.max_segments " + maxSegments;
        }
        for (Map.Entry<String, String> e : segments.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            if (k.length() > maxSegmentLength) {
                return "a segments key has " + k.length() + " characters, more than limits.max_segment_length "
                        + maxSegmentLength;
            }
            if (v != null && v.length() > maxSegmentLength) {
                return "segments['" + k + "'] has " + v.length() + " characters, more than limits.max_segment_length "
                        + maxSegmentLength;
            }
        }
        return null;
    }
}
