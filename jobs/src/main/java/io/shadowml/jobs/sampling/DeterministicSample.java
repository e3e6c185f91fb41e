package io.shadowml.jobs.sampling;

import java.io.Serializable;

/**
 * Chooses a fixed share of ids by a hash of the id alone, so that every subtask, every restart and
 * every replay chooses the same ones, and the scoring and the label join agree on an id without
 * talking to each other. An id is in when
 *
 * <pre>
 *   ((id.hashCode() ^ salt) · 0x9E3779B9 mod 2³²) &gt;&gt;&gt; 8  &lt;  rate · 2²⁴
 * </pre>
 *
 * with Java's specified {@link String#hashCode()} (jobs/METRICS.md, "Sampling"): a reference
 * implementation in any language reproduces the choice. Different salts give (nearly) independent
 * samples of the same ids.
 */
public final class DeterministicSample implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The scored-events topic's sample (scored_events_sample_rate). */
    public static final int SCORED_EVENTS_SALT = 0;
    /** The experiment's traffic sample (sample_rate). */
    public static final int EXPERIMENT_SALT = 0x5bd1e995;

    private final double rate;
    private final int salt;
    private final long threshold;

    /** @param rate the share chosen, in [0, 1] */
    public DeterministicSample(double rate, int salt) {
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException("rate must be in [0, 1]: " + rate);
        }
        this.rate = rate;
        this.salt = salt;
        this.threshold = (long) Math.ceil(rate * (1 << 24));
    }

    public boolean includes(String id) {
        return rate >= 1.0 || ((id.hashCode() ^ salt) * 0x9E3779B9 >>> 8) < threshold;
    }
}
