package io.shadowml.jobs.report;

/**
 * The report assembler's key: the experiment id for live generation 0 (as before generations existed, so
 * its savepoints restore), the id and the generation after a SWITCH_LIVE. Each generation's evidence,
 * cumulative figures and verdict memory are thereby state of their own.
 */
public final class GenerationKey {
    /** Cannot occur in an experiment id (a control character). */
    private static final String SEPARATOR = "\u0001live-";

    private GenerationKey() {}

    public static String of(String experimentId, int generation) {
        return generation <= 0 ? experimentId : experimentId + SEPARATOR + generation;
    }

    public static String experimentOf(String key) {
        int i = key.indexOf(SEPARATOR);
        return i < 0 ? key : key.substring(0, i);
    }

    public static int generationOf(String key) {
        int i = key.indexOf(SEPARATOR);
        return i < 0 ? 0 : Integer.parseInt(key.substring(i + SEPARATOR.length()));
    }
}
