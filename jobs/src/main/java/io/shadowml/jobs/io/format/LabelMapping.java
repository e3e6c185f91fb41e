package io.shadowml.jobs.io.format;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.shadowml.avro.Label;

/**
 * Builds the job's {@link Label} from a label event as the business wrote it: which path holds the
 * request id, the label time and the value. The value is a number, a boolean (true = 1, the positive
 * class) or, when {@code classNames} are given, a class name that becomes its index in that list.
 * Defaults are the contract's own field names.
 */
public final class LabelMapping implements RecordMapping {
    private static final long serialVersionUID = 1L;

    final FieldPath requestId;
    final FieldPath labelTime;
    final TimeFormat labelTimeFormat;
    /** Null with implicit labels: every label event is the positive class (1). */
    final FieldPath value;
    /** Class names in index order; empty when values are numbers. */
    final List<String> classNames;

    public LabelMapping(
            FieldPath requestId,
            FieldPath labelTime,
            TimeFormat labelTimeFormat,
            FieldPath value,
            List<String> classNames) {
        this.requestId = requestId;
        this.labelTime = labelTime;
        this.labelTimeFormat = labelTimeFormat;
        this.value = value;
        this.classNames = new ArrayList<>(classNames);
    }

    @Override
    public boolean readsKafkaAttributes() {
        return requestId.isKafkaKey() || labelTime.isKafkaTimestamp();
    }

    public Map<String, FieldPath> paths() {
        Map<String, FieldPath> all = new LinkedHashMap<>();
        all.put("request_id", requestId);
        all.put("label_time", labelTime);
        if (value != null) {
            all.put("value", value);
        }
        all.values().removeIf(p -> p.isKafkaKey() || p.isKafkaTimestamp());
        return all;
    }

    /** The label, or (a String) why the record is not one. */
    @Override
    public Object map(Object root, byte[] key, long kafkaTimestamp) {
        Object id = MappedField.text(requestId, root, key, "request_id");
        if (id == MappedField.MISSING_VALUE) {
            return MappedField.missing("request_id", requestId);
        }
        if (id instanceof MappedField.Reason) {
            return id.toString();
        }
        Object time = MappedField.time(labelTime, labelTimeFormat, root, kafkaTimestamp, "label_time");
        if (time instanceof String) {
            return time;
        }
        if (value == null) {
            return Label.newBuilder()
                    .setRequestId((String) id)
                    .setLabelTime(Instant.ofEpochMilli((Long) time))
                    .setValue(1.0)
                    .build();
        }
        Object v = value.resolve(root);
        if (v == FieldPath.MISSING) {
            return "missing label value at '" + value + "'";
        }
        Double number = Values.number(v);
        if (number == null) {
            String name = Values.text(v);
            if (name == null || classNames.isEmpty()) {
                return MappedField.wrongType(
                        "label value",
                        value,
                        v,
                        classNames.isEmpty() ? "a number or a boolean" : "a number, a boolean or a class name");
            }
            int index = classNames.indexOf(name);
            if (index < 0) {
                return "label value at '" + value + "' is '" + MappedField.abbreviate(name)
                        + "', not one of the class names " + classNames;
            }
            number = (double) index;
        }
        return Label.newBuilder()
                .setRequestId((String) id)
                .setLabelTime(Instant.ofEpochMilli((Long) time))
                .setValue(number)
                .build();
    }
}
