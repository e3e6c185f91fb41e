package io.shadowml.jobs.io.format;

/** What the request and label mappings share: absent values, times and type errors, named by path. */
final class MappedField {
    private MappedField() {}

    /** A text or key that the record does not have (distinct from every String). */
    static final Object MISSING_VALUE = new Object();

    /** Epoch milliseconds (a Long) at {@code path}, or (a String) why there are none. */
    static Object time(FieldPath path, TimeFormat format, Object root, long kafkaTimestamp, String what) {
        if (path.isKafkaTimestamp()) {
            return kafkaTimestamp;
        }
        Object v = path.resolve(root);
        if (v == FieldPath.MISSING) {
            return "missing " + what + " at '" + path + "'";
        }
        Long millis = format.toEpochMillis(v);
        if (millis == null) {
            return what + " at '" + path + "' is " + Values.describe(v) + " " + abbreviate(v) + ", expected "
                    + format.expected() + " (" + what + "_format: " + format + ")";
        }
        return millis;
    }

    static String wrongType(String what, FieldPath path, Object value, String expected) {
        return what + " at '" + path + "' is " + Values.describe(value) + ", expected " + expected;
    }

    /** The value as text for a reason, cut short. */
    private static String abbreviate(Object v) {
        String text = String.valueOf(v);
        return text.length() <= 64 ? text : text.substring(0, 64) + "…";
    }
}
