package io.shadowml.jobs.metrics;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The configured {@code segment_fields}: which {@code Request.segments} keys the reports are sliced by,
 * in config order, and how many distinct values per field an accumulator names before it lumps the rest
 * into {@link #OTHER}. The scoring operator uses it to pick the values out of each request; the window
 * aggregation to size its accumulators.
 */
public final class SegmentSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The slice of requests that have no value for the field. */
    public static final String MISSING = "(none)";
    /** The slice of the values beyond the per-field cap. */
    public static final String OTHER = "(other)";
    /** Default cap on the distinct named values per field and accumulator. */
    public static final int DEFAULT_MAX_VALUES = 50;

    /** No segment fields: events carry no segment values and the reports have no slices. */
    public static final SegmentSpec NONE = new SegmentSpec(List.of());

    private final String[] fields;
    private final int maxValues;

    public SegmentSpec(List<String> fields) {
        this(fields, DEFAULT_MAX_VALUES);
    }

    /** Duplicate field names are dropped (the first occurrence keeps its position). */
    public SegmentSpec(List<String> fields, int maxValues) {
        if (maxValues < 1) {
            throw new IllegalArgumentException("maxValues must be positive, was " + maxValues);
        }
        List<String> unique = new ArrayList<>(new LinkedHashSet<>(fields == null ? List.of() : fields));
        for (String f : unique) {
            if (f == null || f.isEmpty()) {
                throw new IllegalArgumentException("segment field names must be non-empty");
            }
        }
        this.fields = unique.toArray(new String[0]);
        this.maxValues = maxValues;
    }

    public int size() {
        return fields.length;
    }

    public boolean isEmpty() {
        return fields.length == 0;
    }

    public String field(int i) {
        return fields[i];
    }

    public List<String> fields() {
        return List.of(fields);
    }

    public int maxValues() {
        return maxValues;
    }

    /**
     * The request's value of each field, in field order; {@code null} where the request has none.
     * Returns {@code null} when no fields are configured, so events then carry nothing.
     */
    public String[] extract(Map<String, String> segments) {
        if (fields.length == 0) {
            return null;
        }
        String[] values = new String[fields.length];
        if (segments != null) {
            for (int i = 0; i < fields.length; i++) {
                values[i] = segments.get(fields[i]);
            }
        }
        return values;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SegmentSpec
                && ((SegmentSpec) o).maxValues == maxValues
                && Arrays.equals(((SegmentSpec) o).fields, fields);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(fields) + maxValues;
    }

    @Override
    public String toString() {
        return "SegmentSpec" + Arrays.toString(fields) + " (max " + maxValues + " values per field)";
    }
}
