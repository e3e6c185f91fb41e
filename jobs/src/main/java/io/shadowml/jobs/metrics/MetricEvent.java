package io.shadowml.jobs.metrics;

import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * The one record type the metric windows consume: something that happened to one request (scored,
 * labelled, expired) or one input record (dead-lettered, duplicate or unknown label, duplicate request). Serialized by
 * {@link MetricEventSerializer}, never Kryo.
 */
@TypeInfo(MetricEventTypeInfoFactory.class)
public class MetricEvent {
    public static final byte SCORED = 0;
    public static final byte LABELLED = 1;
    public static final byte EXPIRED = 2;
    public static final byte DEAD_LETTER = 3;
    public static final byte DUPLICATE_LABEL = 4;
    public static final byte UNKNOWN_LABEL = 5;
    /** A request whose id the join has seen scored before (the first one is joined, this one is not). */
    public static final byte DUPLICATE_REQUEST = 6;
    /**
     * Implicit labels (inputs.labels.implicit): a request with no label event by its horizon, joined with
     * the negative class at its expiry. Counts as labelled, and as implicit.
     */
    public static final byte LABELLED_IMPLICIT = 7;
    /** A valid request outside the experiment's sample (sample_rate): counted, not scored. */
    public static final byte UNSAMPLED_REQUEST = 8;
    /** A label of a request outside the experiment's sample: counted, dropped before the join. */
    public static final byte UNSAMPLED_LABEL = 9;
    /** An entity (entity_id) seen in a canary arm for the first time within canary.sticky_ttl. */
    public static final byte ENTITY_SEEN = 10;
    /** An entity seen in a second arm within canary.sticky_ttl (counted once per entity). */
    public static final byte ENTITY_MULTI_ARM = 11;

    public byte kind;
    /** Spreads the aggregation over parallel subtasks; derived from the request id. */
    public int shard;

    public String requestId;
    public long eventTime;
    /** All models' outputs in {@link ModelLayout} order (SCORED, LABELLED). */
    public float[] outputs;
    /** Bit m set: model m produced no usable output for this event. */
    public long errorMask;
    /**
     * Bit m set: model m did not score this request by design, outside its own sample
     * ({@code candidate_sample_rates}): it counts nowhere for the model, not even as an error.
     */
    public long absentMask;
    /** Per model: this event's share of its batch's inference time (SCORED only). */
    public int[] latencyMicros;
    /** The label value (LABELLED, LABELLED_IMPLICIT). */
    public double label;
    /**
     * When the label was known (LABELLED: the label event's time); {@link #NO_LABEL_TIME} for an implicit
     * label, which has no label event. label_delay and the maturity rule read it (jobs/METRICS.md).
     */
    public long labelTime = NO_LABEL_TIME;

    public static final long NO_LABEL_TIME = Long.MIN_VALUE;
    /**
     * The request's value of each configured segment field, in config order, null where the request has
     * none (SCORED, LABELLED); null altogether when no segment fields are configured.
     */
    public String[] segments;
    /**
     * Parity of the live model with the output the serving system logged for this request (SCORED only):
     * {@link #PARITY_NONE} when there was nothing to compare, else whether their decisions differ, and
     * {@link #parityDifference} how far apart they are (as disagreement measures it).
     */
    public byte parity;

    public double parityDifference;

    /**
     * The canary arm that served the request in production (SCORED, LABELLED): an index into the
     * experiment's {@link ArmLayout}, 0 being the control arm; {@link #NO_ARM} when the request named none
     * (or no canary is configured), {@link #UNMAPPED_ARM} when its served_by is not a configured arm. With
     * an arm, {@link #parity} compares the logged output with the arm's model, not the live one.
     */
    public byte arm = NO_ARM;

    public static final byte NO_ARM = -1;
    public static final byte UNMAPPED_ARM = -2;
    /**
     * The request's value of the business metric's feature (canary.business_metric), NaN when it has none
     * or no business metric is configured (SCORED, LABELLED with an arm).
     */
    public float businessValue = Float.NaN;

    /**
     * The live generation whose models scored the request (SCORED, LABELLED, EXPIRED): 0 until the first
     * SWITCH_LIVE, then one more per switch (jobs/README §4). Its evidence is reported with that
     * generation's live model. {@link #NO_GENERATION} for an event of no scored request (a dead letter, an
     * unsampled request): it counts in the generation live in its window.
     */
    public int liveGeneration = NO_GENERATION;

    public static final int NO_GENERATION = -1;

    public static final byte PARITY_NONE = 0;
    public static final byte PARITY_SAME_DECISION = 1;
    public static final byte PARITY_FLIPPED = 2;

    public MetricEvent() {}

    public static MetricEvent scored(
            String requestId, long eventTime, float[] outputs, long errorMask, int[] latencyMicros, String[] segments) {
        MetricEvent e = of(SCORED, requestId);
        e.segments = segments;
        e.eventTime = eventTime;
        e.outputs = outputs;
        e.errorMask = errorMask;
        e.latencyMicros = latencyMicros;
        return e;
    }

    /**
     * A scored request joined with its label: the prediction's fields, as the label join keeps them, and
     * the label's value and time.
     */
    public static MetricEvent labelled(
            String requestId,
            long eventTime,
            float[] outputs,
            long errorMask,
            double label,
            long labelTime,
            String[] segments) {
        MetricEvent e = of(LABELLED, requestId);
        e.eventTime = eventTime;
        e.outputs = outputs;
        e.errorMask = errorMask;
        e.label = label;
        e.labelTime = labelTime;
        e.segments = segments;
        return e;
    }

    /** A request that reached its horizon without a label event, joined with the negative class (0). */
    public static MetricEvent implicitNegative(
            String requestId, long eventTime, float[] outputs, long errorMask, String[] segments) {
        MetricEvent e = labelled(requestId, eventTime, outputs, errorMask, 0.0, NO_LABEL_TIME, segments);
        e.kind = LABELLED_IMPLICIT;
        return e;
    }

    /** A labelled event (explicit or implicit) whose label is known. */
    public boolean isLabelled() {
        return kind == LABELLED || kind == LABELLED_IMPLICIT;
    }

    public static MetricEvent of(byte kind, String requestId) {
        MetricEvent e = new MetricEvent();
        e.kind = kind;
        e.requestId = requestId;
        e.shard = requestId == null ? 0 : requestId.hashCode() & Integer.MAX_VALUE;
        return e;
    }

    public boolean failed(int model) {
        return (errorMask & (1L << model)) != 0;
    }

    /** Whether model {@code model} did not score this request (outside its sample). */
    public boolean absent(int model) {
        return (absentMask & (1L << model)) != 0;
    }
}
