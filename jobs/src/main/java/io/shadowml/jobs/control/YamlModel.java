package io.shadowml.jobs.control;

import java.io.Serializable;
import java.nio.file.Path;

import io.shadowml.models.ModelDescriptor;

/**
 * A candidate of the job's YAML as the model table announces it when a restore finds it new: its
 * descriptor's JSON and file (read on the client, so every operator announces the very same bytes) and
 * the share of the traffic it scores.
 */
public final class YamlModel implements Serializable {
    private static final long serialVersionUID = 1L;

    public final String id;
    public final String descriptorJson;
    public final String descriptorFile;
    public final double sampleRate;

    public YamlModel(String id, String descriptorJson, String descriptorFile, double sampleRate) {
        this.id = id;
        this.descriptorJson = descriptorJson;
        this.descriptorFile = descriptorFile;
        this.sampleRate = sampleRate;
    }

    /** The descriptor, validated as at start (throws ModelConfigException). */
    public ModelDescriptor descriptor() {
        return ModelDescriptor.fromJson(descriptorJson, Path.of(descriptorFile));
    }
}
