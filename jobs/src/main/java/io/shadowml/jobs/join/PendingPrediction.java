package io.shadowml.jobs.join;

/**
 * What the label join keeps per request while it waits for the label: only what the quality metrics
 * need (the key holds the request id). With two binary models this is 8 + 4 + 2·4 + 8 bytes of payload,
 * plus the segment values (one short string per configured segment field) so that labelled events are
 * sliced by segment too; see {@code LabelJoinFunctionTest.serializedSizeOfAPendingPrediction} for the
 * exact serialized size.
 */
public class PendingPrediction {
    public long eventTime;
    public float[] outputs;
    public long errorMask;
    /** The request's segment values in config order (null entries = missing); null if none configured. */
    public String[] segments;

    public PendingPrediction() {}

    public PendingPrediction(long eventTime, float[] outputs, long errorMask, String[] segments) {
        this.eventTime = eventTime;
        this.outputs = outputs;
        this.errorMask = errorMask;
        this.segments = segments;
    }
}
