package io.shadowml.tools.io;

import java.io.Serializable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import io.shadowml.jobs.config.DurationParser;
import io.shadowml.tools.cli.UsageException;

/**
 * How long after its event a label becomes known, when the input has no label time: {@code fixed:7d} or
 * {@code lognormal:median=3d,sigma=0.8[,never=0.05]} (never = share of rows that never get a label).
 * A draw depends only on the seed and the request id, so a replay and a backtest of the same file (or a
 * second replay) give every request the same label time.
 */
public final class DelayDistribution implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String text;
    private final boolean fixed;
    private final long medianMillis;
    private final double sigma;
    private final double never;

    private DelayDistribution(String text, boolean fixed, long medianMillis, double sigma, double never) {
        this.text = text;
        this.fixed = fixed;
        this.medianMillis = medianMillis;
        this.sigma = sigma;
        this.never = never;
    }

    /** @throws UsageException naming {@code option} when the text is not a distribution */
    public static DelayDistribution parse(String text, String option) {
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException("option --" + option + ": " + e.getMessage());
        }
    }

    /** @throws IllegalArgumentException saying what is wrong and what a distribution looks like */
    public static DelayDistribution parse(String text) {
        String t = text.trim();
        int colon = t.indexOf(':');
        String kind = colon < 0 ? t : t.substring(0, colon);
        String rest = colon < 0 ? "" : t.substring(colon + 1);
        try {
            if (kind.equals("fixed")) {
                return new DelayDistribution(t, true, positive(DurationParser.parse(rest)), 0, 0);
            }
            if (kind.equals("lognormal")) {
                Map<String, String> p = new LinkedHashMap<>();
                for (String kv : rest.split(",")) {
                    int eq = kv.indexOf('=');
                    if (eq < 0) {
                        throw new IllegalArgumentException("'" + kv + "' is not key=value");
                    }
                    p.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
                }
                if (!p.containsKey("median") || !p.containsKey("sigma")) {
                    throw new IllegalArgumentException("lognormal needs median= and sigma=");
                }
                long median = positive(DurationParser.parse(p.remove("median")));
                double sigma = Double.parseDouble(p.remove("sigma"));
                double never = p.containsKey("never") ? Double.parseDouble(p.remove("never")) : 0.0;
                if (!(sigma >= 0) || !(never >= 0 && never < 1) || !p.isEmpty()) {
                    throw new IllegalArgumentException(
                            "sigma must be >= 0, never in [0, 1), no other keys; unknown: " + p.keySet());
                }
                return new DelayDistribution(t, false, median, sigma, never);
            }
            throw new IllegalArgumentException("unknown distribution '" + kind + "'");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "'" + text + "': " + e.getMessage()
                            + " (use fixed:7d or lognormal:median=3d,sigma=0.8[,never=0.05])",
                    e);
        }
    }

    private static long positive(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("negative duration");
        }
        return d.toMillis();
    }

    /** The delay in ms for this request, or -1 when it is never labelled. */
    public long sample(long seed, String requestId) {
        if (fixed) {
            return medianMillis;
        }
        SplittableRandom r = new SplittableRandom(
                seed * 0x9E3779B97F4A7C15L ^ requestId.hashCode() * 0xC2B2AE3D27D4EB4FL ^ requestId.length());
        double u = r.nextDouble();
        double z = gaussian(r);
        if (u < never) {
            return -1;
        }
        return Math.round(medianMillis * Math.exp(sigma * z));
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller; deterministic across JVMs (java.util.Random#nextGaussian is too, but is not splittable).
        double u1 = 1.0 - r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    @Override
    public String toString() {
        return text;
    }
}
