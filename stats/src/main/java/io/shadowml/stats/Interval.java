package io.shadowml.stats;

/**
 * A closed interval [low, high] of a parameter's plausible values. {@link #ALL} (−∞, +∞) is what a
 * confidence sequence says before it has evidence. NaN bounds are not allowed.
 */
public record Interval(double low, double high) {
    /** Every value: no evidence yet. */
    public static final Interval ALL = new Interval(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);

    public Interval {
        if (Double.isNaN(low) || Double.isNaN(high) || low > high) {
            throw new IllegalArgumentException("not an interval: [" + low + ", " + high + "]");
        }
    }

    /** [center − radius, center + radius]; {@link #ALL} when the radius is infinite. */
    public static Interval around(double center, double radius) {
        if (Double.isNaN(radius) || radius < 0) {
            throw new IllegalArgumentException("radius must be >= 0, was " + radius);
        }
        if (radius == Double.POSITIVE_INFINITY || Double.isNaN(center)) {
            return ALL;
        }
        return new Interval(center - radius, center + radius);
    }

    /**
     * The values both intervals allow. The running intersection of a confidence sequence is itself a
     * confidence sequence at the same level; an empty intersection (possible only through an error of
     * the sequence, with probability at most its alpha) keeps the newer interval.
     */
    public Interval intersect(Interval other) {
        double lo = Math.max(low, other.low);
        double hi = Math.min(high, other.high);
        return lo <= hi ? new Interval(lo, hi) : other;
    }

    public boolean contains(double value) {
        return low <= value && value <= high;
    }

    /** Every value of the interval lies strictly above {@code value}. */
    public boolean above(double value) {
        return low > value;
    }

    /** Every value of the interval lies strictly below {@code value}. */
    public boolean below(double value) {
        return high < value;
    }

    public double width() {
        return high - low;
    }
}
