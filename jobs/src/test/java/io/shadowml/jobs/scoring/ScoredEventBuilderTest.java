package io.shadowml.jobs.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shadowml.avro.EventDisagreement;
import io.shadowml.avro.ModelOutput;
import io.shadowml.avro.ModelRole;
import io.shadowml.avro.Request;
import io.shadowml.avro.ScoredEvent;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.models.ModelDescriptor;

/** The scored event of one request, from given outputs and errors: no Flink, no models, values by hand. */
class ScoredEventBuilderTest {

    private static ModelDescriptor descriptor(String name, String task, String output, String extra) {
        String json = "{\"name\":\"" + name + "\",\"version\":\"1.0.0\",\"path\":\"model.onnx\","
                + "\"sha256\":\"" + "0".repeat(64) + "\",\"task\":\"" + task + "\","
                + "\"input\":{\"tensor\":\"x\",\"features\":[\"a\"]},\"output\":" + output + extra + "}";
        return ModelDescriptor.fromJson(json, Path.of("/nonexistent/" + name + "/model.json"));
    }

    private static ScoredEventBuilder builder(List<ModelDescriptor> models) {
        return new ScoredEventBuilder("exp-1", models.toArray(new ModelDescriptor[0]), new ModelLayout(models));
    }

    private static final Request REQUEST = Request.newBuilder()
            .setRequestId("r-17")
            .setEventTime(Instant.ofEpochMilli(1_767_571_200_000L))
            .setEntityId("customer-4")
            .setSegments(Map.of("region", "EU"))
            .setServedBy("live")
            .setFeatures(Map.of("a", 1.0))
            .build();

    private static ScoredEvent expected(List<ModelOutput> outputs, List<EventDisagreement> disagreement) {
        return ScoredEvent.newBuilder()
                .setExperimentId("exp-1")
                .setRequestId("r-17")
                .setEventTime(Instant.ofEpochMilli(1_767_571_200_000L))
                .setEntityId("customer-4")
                .setSegments(Map.of("region", "EU"))
                .setServedBy("live")
                .setOutputs(outputs)
                .setDisagreement(disagreement)
                .build();
    }

    private static ModelOutput.Builder output(String name, ModelRole role, long latency) {
        return ModelOutput.newBuilder()
                .setModelName(name)
                .setModelVersion("1.0.0")
                .setRole(role)
                .setLatencyMicros(latency);
    }

    @Test
    void binary() {
        ScoredEventBuilder b = builder(List.of(
                descriptor("live", "binary", "{\"tensor\":\"p\"}", ",\"threshold\":0.5"),
                descriptor("cand", "binary", "{\"tensor\":\"p\"}", ",\"threshold\":0.3")));
        // live 0.4 < 0.5: class 0; candidate 0.35 >= its own threshold 0.3: class 1. Flip and
        // difference are taken as given (computed once by the operator), not recomputed.
        ScoredEvent e = b.build(
                REQUEST,
                b.models(),
                new float[] {0.4f, 0.35f},
                0L,
                0L, // no model absent
                new int[] {12, 30},
                new String[2],
                new boolean[] {false, true},
                new double[] {0, 0.05});
        assertEquals(
                expected(
                        List.of(
                                output("live", ModelRole.LIVE, 12)
                                        .setScore((double) 0.4f)
                                        .setPredictedClass(0)
                                        .build(),
                                output("cand", ModelRole.CANDIDATE, 30)
                                        .setScore((double) 0.35f)
                                        .setPredictedClass(1)
                                        .build()),
                        List.of(new EventDisagreement("cand:1.0.0", true, 0.05))),
                e);
    }

    @Test
    void multiclassWithACandidateWhoseInferenceFailed() {
        String out = "{\"tensor\":\"p\",\"num_classes\":3}";
        ScoredEventBuilder b = builder(List.of(
                descriptor("live", "multiclass", out, ""),
                descriptor("cand", "multiclass", out, ""),
                descriptor("broken", "multiclass", out, "")));
        // live (0.2, 0.5, 0.3): class 1 at 0.5; cand (0.6, 0.3, 0.1): class 0 at 0.6; broken threw for the batch.
        float[] outputs = {0.2f, 0.5f, 0.3f, 0.6f, 0.3f, 0.1f, 0f, 0f, 0f};
        ScoredEvent e = b.build(
                REQUEST,
                b.models(),
                outputs,
                0b100L,
                0L, // no model absent
                new int[] {5, 6, 7},
                new String[] {null, null, "inference failed: java.lang.IllegalStateException: boom"},
                new boolean[] {false, true, false},
                new double[] {0, 0.4, 0});
        assertEquals(
                expected(
                        List.of(
                                output("live", ModelRole.LIVE, 5)
                                        .setScore((double) 0.5f)
                                        .setProbabilities(List.of(0.2f, 0.5f, 0.3f))
                                        .setPredictedClass(1)
                                        .build(),
                                output("cand", ModelRole.CANDIDATE, 6)
                                        .setScore((double) 0.6f)
                                        .setProbabilities(List.of(0.6f, 0.3f, 0.1f))
                                        .setPredictedClass(0)
                                        .build(),
                                output("broken", ModelRole.CANDIDATE, 7)
                                        .setError("inference failed: java.lang.IllegalStateException: boom")
                                        .build()),
                        List.of(new EventDisagreement("cand:1.0.0", true, 0.4))),
                e);
    }

    @Test
    void regressionWithACandidateWhoseOutputWasNotFinite() {
        String out = "{\"tensor\":\"y\"}";
        ScoredEventBuilder b = builder(List.of(
                descriptor("live", "regression", out, ""),
                descriptor("nan", "regression", out, ""),
                descriptor("cand", "regression", out, "")));
        // The batch call of "nan" returned (no inference error) but its value for this row is NaN.
        ScoredEvent e = b.build(
                REQUEST,
                b.models(),
                new float[] {2.5f, Float.NaN, 4.0f},
                0b010L,
                0L, // no model absent
                new int[] {1, 2, 3},
                new String[3],
                new boolean[3],
                new double[] {0, 0, 1.5});
        assertEquals(
                expected(
                        List.of(
                                output("live", ModelRole.LIVE, 1)
                                        .setScore(2.5)
                                        .setPredictedValue(2.5)
                                        .build(),
                                output("nan", ModelRole.CANDIDATE, 2)
                                        .setError("non-finite or out-of-range model output")
                                        .build(),
                                output("cand", ModelRole.CANDIDATE, 3)
                                        .setScore(4.0)
                                        .setPredictedValue(4.0)
                                        .build()),
                        List.of(new EventDisagreement("cand:1.0.0", false, 1.5))),
                e);
    }

    @Test
    void noDisagreementWhenTheLiveModelErred() {
        ScoredEventBuilder b = builder(List.of(
                descriptor("live", "binary", "{\"tensor\":\"p\"}", ",\"threshold\":0.5"),
                descriptor("cand", "binary", "{\"tensor\":\"p\"}", ",\"threshold\":0.5")));
        ScoredEvent e = b.build(
                REQUEST,
                b.models(),
                new float[] {1.5f, 0.7f},
                0b01L,
                0L, // no model absent
                new int[] {4, 4},
                new String[2],
                new boolean[2],
                new double[2]);
        assertEquals(
                expected(
                        List.of(
                                output("live", ModelRole.LIVE, 4)
                                        .setError("non-finite or out-of-range model output")
                                        .build(),
                                output("cand", ModelRole.CANDIDATE, 4)
                                        .setScore((double) 0.7f)
                                        .setPredictedClass(1)
                                        .build()),
                        List.of()),
                e);
    }
}
