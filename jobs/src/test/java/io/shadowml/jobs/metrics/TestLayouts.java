package io.shadowml.jobs.metrics;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.shadowml.models.ModelDescriptor;

/** Model layouts for tests that need no model file: descriptors parsed from inline JSON. */
public final class TestLayouts {
    private TestLayouts() {}

    /** Binary models with these thresholds; the first is live. */
    public static ModelLayout binary(double... thresholds) {
        List<ModelDescriptor> d = new ArrayList<>();
        for (int m = 0; m < thresholds.length; m++) {
            d.add(descriptor("bin" + m, "binary", "{\"tensor\":\"p\"}", ",\"threshold\":" + thresholds[m]));
        }
        return new ModelLayout(d);
    }

    public static ModelDescriptor descriptor(String name, String task, String output, String extra) {
        return ModelDescriptor.fromJson(json(name, task, output, extra), file(name));
    }

    /** The descriptor JSON {@link #descriptor} parses. */
    public static String json(String name, String task, String output, String extra) {
        return "{\"name\":\"" + name + "\",\"version\":\"1.0.0\",\"path\":\"model.onnx\","
                + "\"sha256\":\"" + "0".repeat(64) + "\",\"task\":\"" + task + "\","
                + "\"input\":{\"tensor\":\"x\",\"features\":[\"a\"]},\"output\":" + output + extra + "}";
    }

    /** Where {@link #descriptor} says model {@code name}'s descriptor is. */
    public static Path file(String name) {
        return Path.of("/nonexistent/" + name + "/model.json");
    }
}
