package io.shadowml.jobs.control;

/**
 * A live generation's order of the models: for each logical slot (0 = the live model), the physical slot
 * whose model stands in it. The model table and the scoring operator both derive it from the switches.
 */
public final class LivePermutation {
    private LivePermutation() {}

    /** Generation 0: every model in its own slot. */
    public static int[] identity(int slots) {
        int[] p = new int[slots];
        for (int i = 0; i < slots; i++) {
            p[i] = i;
        }
        return p;
    }

    /** The logical slot of {@code physical} in {@code physicalOf}. */
    public static int logicalOf(int[] physicalOf, int physical) {
        for (int l = 0; l < physicalOf.length; l++) {
            if (physicalOf[l] == physical) {
                return l;
            }
        }
        throw new IllegalStateException("physical slot " + physical + " has no logical slot");
    }

    /**
     * The next generation's order after the model in {@code newLive} (a physical slot) goes live: it swaps
     * places with the live model, so switching back is the same swap. {@code physicalOf} is not changed.
     */
    public static int[] afterSwitch(int[] physicalOf, int newLive) {
        int[] next = physicalOf.clone();
        int to = logicalOf(physicalOf, newLive);
        next[0] = physicalOf[to];
        next[to] = physicalOf[0];
        return next;
    }
}
