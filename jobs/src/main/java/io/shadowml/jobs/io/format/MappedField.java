package io.shadowml.jobs.io.format;

import java.nio.charset.StandardCharsets;

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

    /** Text at {@code path}, or the Kafka key as UTF-8: a String, {@link #MISSING_VALUE}, or a {@link Reason}. */
    static Object text(FieldPath path, Object root, byte[] key, String what) {
        if (path.isKafkaKey()) {
            return key == null ? MISSING_VALUE : new String(key, StandardCharsets.UTF_8);
        }
        Object v = path.resolve(root);
        if (v == FieldPath.MISSING) {
            return MISSING_VALUE;
        }
        String text = Values.text(v);
        return text == null ? new Reason(wrongType(what, path, v, "a string")) : text;
    }

    /** Why a required value is not there. */
    static String missing(String what, FieldPath path) {
        return "missing " + what + " at '" + path + "'" + (path.isKafkaKey() ? ": the record has no Kafka key" : "");
    }

    /** Why a record is not one: distinct from the texts {@link #text} returns, which are Strings too. */
    static final class Reason {
        private final String text;

        Reason(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    static String wrongType(String what, FieldPath path, Object value, String expected) {
        return what + " at '" + path + "' is " + Values.describe(value) + ", expected " + expected;
    }

    /** The value as text for a reason, cut short. */
    static String abbreviate(Object v) {
        String text = String.valueOf(v);
        return text.length() <= 64 ? text : text.substring(0, 64) + "…";
    }
}
