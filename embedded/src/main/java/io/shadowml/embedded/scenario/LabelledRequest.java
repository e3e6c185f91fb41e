package io.shadowml.embedded.scenario;

import io.shadowml.avro.Label;
import io.shadowml.avro.Request;

/** One request of a scenario and, unless it is never labelled, the label that arrives for it later. */
public record LabelledRequest(Request request, Label label) {
    public boolean labelled() {
        return label != null;
    }
}
