package io.shadowml.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.DeadLetter;
import io.shadowml.avro.Label;
import io.shadowml.avro.Request;
import io.shadowml.avro.Verdict;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.config.ShadowJobConfig;
import io.shadowml.jobs.io.format.ApicurioRegistry;
import io.shadowml.jobs.it.JobRun.Misfit;

/**
 * Production topics as they are, through a real broker: the same fraud requests and labels once in the
 * job's own Avro contract and once as a producer would write them — requests as nested JSON with its own
 * field names and ISO-8601 times, labels as schema-registry Avro of a "Chargeback" event with a boolean
 * outcome, its schema fetched from a real registry (Apicurio, started by the test) — plus records that do
 * not fit the mapping. The two jobs must report exactly the same counts, disagreement, quality and
 * verdicts (the contract run's figures are checked against brute force by
 * {@link ShadowJobIntegrationTest}), and each misfit must be one dead letter with its path in the reason.
 */
class MappedInputsIntegrationTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema CHARGEBACK = new Schema.Parser()
            .parse("{\"type\": \"record\", \"name\": \"Chargeback\", \"namespace\": \"bank.disputes\", \"fields\": ["
                    + "{\"name\": \"txn_id\", \"type\": \"string\"},"
                    + "{\"name\": \"decided\", \"type\": {\"type\": \"long\", \"logicalType\": \"timestamp-millis\"}},"
                    + "{\"name\": \"outcome\", \"type\": {\"type\": \"record\", \"name\": \"Outcome\", \"fields\": ["
                    + "  {\"name\": \"fraud\", \"type\": \"boolean\"}]}}]}");

    @TempDir
    Path tmp;

    @Test
    void producerFormatsReportExactlyWhatTheContractReports() throws Exception {
        List<LabelledRequest> events = ScenarioData.fraud(1500);
        JobRun contract =
                new JobRun(KAFKA.kafka(), tmp, "contract", "", r -> AvroCodec.encode(r), l -> AvroCodec.encode(l));
        contract.produce(events, List.of(), List.of());
        contract.execute();

        // The disputes system registered its schema with a real registry (Apicurio, Confluent-compatible API).
        try (ApicurioRegistry registry = ApicurioRegistry.start()) {
            registry.register(
                    "unrelated-value", Schema.create(Schema.Type.STRING).toString());
            int schemaId = registry.register("disputes.chargebacks-value", CHARGEBACK.toString());
            producerFormatsReportWhatTheContractReports(events, contract, registry.ccompatUrl(), schemaId);
        }
    }

    private void producerFormatsReportWhatTheContractReports(
            List<LabelledRequest> events, JobRun contract, String registryUrl, int schemaId) throws Exception {
        long t0 = events.get(0).request().getEventTime().toEpochMilli();
        String producerInputs = String.join(
                "\n",
                "inputs:",
                "  requests:",
                "    format: json",
                "    fields:",
                "      request_id: txn.id",
                "      event_time: txn.at",
                "      event_time_format: iso8601",
                "      entity_id: card.id",
                "      segments: {region: geo.region, channel: channel}",
                "      features: {amount: txn.amount}",
                "      feature_map: signals",
                "  labels:",
                "    format: registry-avro",
                "    registry:",
                "      url: " + registryUrl,
                "    fields:",
                "      request_id: txn_id",
                "      label_time: decided",
                "      value: outcome.fraud");
        JobRun producer = new JobRun(
                KAFKA.kafka(),
                tmp,
                "producer",
                producerInputs,
                MappedInputsIntegrationTest::json,
                l -> chargeback(l, schemaId));
        Request sample = events.get(0).request();
        String good = new String(json(sample), StandardCharsets.UTF_8);
        List<Misfit> badRequests = List.of(
                producer.misfitRequest("{\"txn\": {\"id\": ", t0, "undecodable JSON"),
                producer.misfitRequest(
                        good.replace("\"amount\":", "\"amt\":"), t0, "missing feature 'amount' at 'txn.amount'"),
                producer.misfitRequest(
                        good.replaceFirst("\"merchant_risk\":([0-9.E-]+)", "\"merchant_risk\":\"$1\""),
                        t0,
                        "feature 'merchant_risk' at 'signals.merchant_risk' is a string"),
                producer.misfitRequest(
                        good.replaceFirst("\"at\":\"([^\"]+)Z\"", "\"at\":\"$1\""),
                        t0,
                        "event_time at 'txn.at' is a string"));
        byte[] otherId = chargeback(
                events.stream()
                        .filter(LabelledRequest::labelled)
                        .findFirst()
                        .orElseThrow()
                        .label(),
                schemaId + 1000);
        List<Misfit> badLabels = List.of(
                producer.misfitLabel(
                        AvroCodec.encode(events.get(0).label()), t0, "not in the schema-registry wire format"),
                producer.misfitLabel(
                        otherId,
                        t0,
                        "unknown writer schema id " + (schemaId + 1000) + ": the schema registry has no schema id"));
        producer.produce(events, badRequests, badLabels);
        producer.execute();

        ComparisonReport want = contract.finalReport(events.size());
        ComparisonReport got = producer.finalReport(events.size());
        assertEquals(0, want.getCounts().getDeadLettered());
        assertEquals(badRequests.size() + badLabels.size(), got.getCounts().getDeadLettered());
        got.getCounts().setDeadLettered(0);
        assertEquals(want.getCounts(), got.getCounts());
        assertTrue(want.getCounts().getLabelled() > 1000, "most requests are labelled");
        for (int i = 0; i < want.getDisagreement().size(); i++) {
            var w = want.getDisagreement().get(i);
            var g = got.getDisagreement().get(i);
            assertEquals(w.getCompared(), g.getCompared());
            assertEquals(w.getFlips(), g.getFlips());
            assertEquals(w.getAbsDiffMean(), g.getAbsDiffMean(), 1e-12);
            assertEquals(w.getAbsDiffMax(), g.getAbsDiffMax());
        }
        for (int i = 0; i < want.getQuality().size(); i++) {
            Map<String, Double> w = new HashMap<>(want.getQuality().get(i).getMetrics());
            Map<String, Double> g = new HashMap<>(got.getQuality().get(i).getMetrics());
            w.remove("latency_mean_micros"); // measured inference time, not a function of the input
            g.remove("latency_mean_micros");
            assertEquals(w.keySet(), g.keySet());
            for (String k : w.keySet()) {
                assertEquals(w.get(k), g.get(k), 1e-9, k);
            }
            assertEquals(
                    want.getQuality().get(i).getLabelled(),
                    got.getQuality().get(i).getLabelled());
        }
        for (int i = 0; i < want.getPaired().size(); i++) {
            assertEquals(
                    want.getPaired().get(i).getLiveOnlyCorrect(),
                    got.getPaired().get(i).getLiveOnlyCorrect());
            assertEquals(
                    want.getPaired().get(i).getCandidateOnlyCorrect(),
                    got.getPaired().get(i).getCandidateOnlyCorrect());
            assertEquals(
                    want.getPaired().get(i).getPrimaryEstimate(),
                    got.getPaired().get(i).getPrimaryEstimate(),
                    1e-12);
        }
        List<Verdict> wantVerdicts = contract.readCommitted("verdicts", Verdict.class, v -> !v.isEmpty());
        List<Verdict> gotVerdicts =
                producer.readCommitted("verdicts", Verdict.class, v -> v.size() >= wantVerdicts.size());
        assertEquals(
                wantVerdicts.stream().map(MappedInputsIntegrationTest::decision).toList(),
                gotVerdicts.stream().map(MappedInputsIntegrationTest::decision).toList());

        List<DeadLetter> deadLetters = producer.readCommitted(
                "dead-letters", DeadLetter.class, d -> d.size() >= badRequests.size() + badLabels.size());
        assertEquals(badRequests.size() + badLabels.size(), deadLetters.size());
        for (Misfit m : concat(badRequests, badLabels)) {
            DeadLetter d = deadLetters.stream()
                    .filter(x -> x.getSourceTopic().equals(m.record().topic())
                            && java.util.Arrays.equals(
                                    x.getRaw().array(), m.record().value()))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no dead letter for: " + m.reason()));
            assertTrue(d.getReason().contains(m.reason()), () -> "expected '" + m.reason() + "' in: " + d.getReason());
        }
    }

    /**
     * Implicit labels, the fraud way: only chargebacks are ever sent (JSON, no value field), and a request
     * without one by the horizon is a negative. Counts and quality must equal a brute-force computation:
     * every request labelled, y = 1 exactly when a chargeback arrived within the horizon.
     */
    @Test
    void implicitLabelsMakeEveryRequestWithoutAChargebackANegative() throws Exception {
        List<LabelledRequest> events = ScenarioData.fraud(1200);
        long horizon = Duration.ofDays(3).toMillis();
        String inputs = String.join(
                "\n",
                "inputs:",
                "  labels:",
                "    format: json",
                "    implicit: true",
                "    fields: {request_id: txn, label_time: reported, label_time_format: iso8601}");
        JobRun run =
                new JobRun(KAFKA.kafka(), tmp, "implicit", inputs, r -> AvroCodec.encode(r), l -> JSON_BYTES.apply(l));
        run.horizon = "3d";
        List<LabelledRequest> chargebacks = new ArrayList<>();
        for (LabelledRequest e : events) {
            chargebacks.add(e.labelled() && e.label().getValue() == 1.0 ? e : new LabelledRequest(e.request(), null));
        }
        run.produce(chargebacks, List.of(), List.of());
        run.execute();

        ShadowJobConfig cfg = run.config;
        List<Request> requests = events.stream().map(LabelledRequest::request).toList();
        float[][] live = io.shadowml.embedded.ReferenceScores.score(cfg.liveModel, requests);
        float[][] cand = io.shadowml.embedded.ReferenceScores.score(cfg.candidateModels.get(0), requests);
        int n = events.size();
        int[] y = new int[n];
        long positives = 0;
        long lateChargebacks = 0;
        for (int i = 0; i < n; i++) {
            LabelledRequest e = chargebacks.get(i);
            if (e.labelled()) {
                boolean inTime = e.label().getLabelTime().toEpochMilli()
                        <= e.request().getEventTime().toEpochMilli() + horizon;
                y[i] = inTime ? 1 : 0;
                positives += inTime ? 1 : 0;
                lateChargebacks += inTime ? 0 : 1;
            }
        }
        assertTrue(positives > 20 && positives < n / 2, "a fraud rate to measure: " + positives);

        ComparisonReport report = run.finalReport(n);
        assertEquals(n, report.getCounts().getLabelled(), "every request is labelled, explicitly or not");
        assertEquals(n - positives, report.getCounts().getImplicitLabels(), "implicit negatives");
        assertEquals(0, report.getCounts().getExpiredUnlabeled());
        assertEquals(lateChargebacks, report.getCounts().getUnknownLabels(), "chargebacks after the horizon");
        assertEquals(1.0, report.getMetrics().get("label_coverage"));
        assertEquals((double) positives / n, report.getMetrics().get("explicit_label_coverage"), 1e-12);

        float[][][] outputs = {live, cand};
        for (int m = 0; m < 2; m++) {
            io.shadowml.models.ModelDescriptor d = m == 0 ? cfg.liveModel : cfg.candidateModels.get(0);
            long correct = 0;
            double logLoss = 0;
            double brier = 0;
            double[] scores = new double[n];
            for (int i = 0; i < n; i++) {
                double p = outputs[m][i][0];
                scores[i] = p;
                correct += ShadowJobIntegrationTest.decision(d, outputs[m][i]) == y[i] ? 1 : 0;
                logLoss += ExpectedMetrics.binaryLogLoss(p, y[i]);
                brier += (p - y[i]) * (p - y[i]);
            }
            Map<String, Double> q = report.getQuality().get(m).getMetrics();
            assertEquals(n, report.getQuality().get(m).getLabelled());
            assertEquals((double) correct / n, q.get("accuracy"), 1e-12, d.id() + " accuracy");
            assertEquals(logLoss / n, q.get("log_loss"), 1e-9, d.id() + " log_loss");
            assertEquals(brier / n, q.get("brier"), 1e-9, d.id() + " brier");
            double auc = ExpectedMetrics.exactAuc(scores, y);
            assertTrue(
                    Math.abs(auc - q.get("roc_auc")) <= q.get("roc_auc_max_error") + 1e-12,
                    () -> d.id() + " roc_auc " + q.get("roc_auc") + " vs exact " + auc);
        }
    }

    /**
     * The live model as it runs in production. Requests carry the score the serving system logged
     * ({@code serving.score}). (1) With the ONNX live model, parity compares the two: every 40th logged
     * score is moved across the threshold and another a little, the rest are the exported model's own; the
     * parity figures must equal a brute force over the same scores. (2) With the live model logged instead of ONNX (not every team's live
     * model is ONNX), unmoved logged scores must give exactly the ONNX live model's quality, and the
     * candidate the same disagreement.
     */
    @Test
    void loggedLiveScoresGiveParityOrStandInForTheLiveModel() throws Exception {
        List<LabelledRequest> events = ScenarioData.fraud(1000);
        List<Request> requests = events.stream().map(LabelledRequest::request).toList();
        ShadowJobConfig probe = ShadowJobConfig.load(ScenarioData.repoRoot().resolve("jobs/examples/shadow-job.yaml"));
        float[][] own = io.shadowml.embedded.ReferenceScores.score(probe.liveModel, requests);
        Map<String, Float> served = new HashMap<>();
        long flips = 0;
        double maxDiff = 0;
        for (int i = 0; i < requests.size(); i++) {
            float s = own[i][0];
            if (i % 40 == 0 || i % 40 == 20) {
                // Across the threshold, or a little off the exported model's score.
                float moved = i % 40 == 20 ? s + 0.001f : s >= 0.5f ? s - 0.5f : Math.min(1f, s + 0.55f);
                flips += (s >= 0.5f) != (moved >= 0.5f) ? 1 : 0;
                maxDiff = Math.max(maxDiff, Math.abs((double) moved - s));
                s = moved;
            }
            served.put(requests.get(i).getRequestId(), s);
        }
        String inputs = "inputs:\n  requests:\n    format: json\n    fields: {production_score: serving.score}";
        Function<Request, byte[]> withScore = r -> servedJson(r, served.get(r.getRequestId()));
        JobRun parity = new JobRun(KAFKA.kafka(), tmp, "parity", inputs, withScore, l -> AvroCodec.encode(l));
        parity.produce(events, List.of(), List.of());
        parity.execute();
        ComparisonReport p = parity.finalReport(events.size());
        assertEquals(events.size(), p.getParity().getCompared());
        assertEquals(flips, p.getParity().getFlips());
        assertTrue(flips > 0, "some moved scores cross the threshold");
        assertEquals(maxDiff, p.getParity().getAbsDiffMax(), 1e-12);
        assertEquals(probe.liveModel.id() + " vs logged", p.getParity().getCandidate());

        // (2) The same requests with the exported model's own scores logged, and the live model logged too.
        Map<String, Float> exact = new HashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            exact.put(requests.get(i).getRequestId(), own[i][0]);
        }
        JobRun logged = new JobRun(
                KAFKA.kafka(),
                tmp,
                "logged",
                inputs,
                r -> servedJson(r, exact.get(r.getRequestId())),
                l -> AvroCodec.encode(l));
        logged.live = "{source: logged, name: fraud-served, version: '2026.11'}";
        logged.produce(events, List.of(), List.of());
        logged.execute();
        assertTrue(logged.config.liveModel.isLogged());
        ComparisonReport l = logged.finalReport(events.size());
        assertEquals("fraud-served:2026.11", l.getLiveModel());
        assertEquals(null, l.getParity(), "a logged live model has nothing to be compared with");
        Map<String, Double> want = new HashMap<>(p.getQuality().get(0).getMetrics());
        Map<String, Double> got = new HashMap<>(l.getQuality().get(0).getMetrics());
        want.remove("latency_mean_micros");
        got.remove("latency_mean_micros");
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            assertEquals(want.get(k), got.get(k), 1e-9, k);
        }
        assertEquals(p.getCounts().getLabelled(), l.getCounts().getLabelled());
        assertEquals(0, l.getCounts().getErrors());
        assertEquals(
                p.getDisagreement().get(0).getFlips(),
                l.getDisagreement().get(0).getFlips());
        assertEquals(
                p.getDisagreement().get(0).getAbsDiffMean(),
                l.getDisagreement().get(0).getAbsDiffMean(),
                1e-12);
    }

    /** The request as the payment service logs it: features at the top, and the score it served. */
    static byte[] servedJson(Request r, float score) {
        ObjectNode root = JSON.createObjectNode();
        root.put("request_id", r.getRequestId());
        root.put("event_time", r.getEventTime().toEpochMilli());
        root.put("entity_id", r.getEntityId());
        ObjectNode segments = root.putObject("segments");
        r.getSegments().forEach((k, v) -> segments.put(k, v));
        ObjectNode features = root.putObject("features");
        r.getFeatures().forEach(features::put);
        root.putObject("serving").put("score", score);
        try {
            return JSON.writeValueAsBytes(root);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A chargeback as JSON: the transaction it disputes and when; no value, its presence is the label. */
    private static final Function<Label, byte[]> JSON_BYTES = l -> {
        ObjectNode root = JSON.createObjectNode();
        root.put("txn", l.getRequestId());
        root.put("reported", l.getLabelTime().toString());
        try {
            return JSON.writeValueAsBytes(root);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    };

    private static String decision(Verdict v) {
        return v.getCandidate() + " " + v.getDecision() + " at " + v.getDecidedAt() + " " + v.getReasons();
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** A request as a producer with its own names writes it: nested, an ISO time, one feature apart. */
    static byte[] json(Request r) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode txn = root.putObject("txn");
        txn.put("id", r.getRequestId());
        txn.put("at", r.getEventTime().toString());
        txn.put("amount", r.getFeatures().get("amount"));
        root.putObject("card").put("id", r.getEntityId());
        root.putObject("geo").put("region", r.getSegments().get("region"));
        root.put("channel", r.getSegments().get("channel"));
        ObjectNode signals = root.putObject("signals");
        r.getFeatures().forEach((name, value) -> {
            if (!name.equals("amount")) {
                signals.put(name, value);
            }
        });
        try {
            return JSON.writeValueAsBytes(root);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A label as the disputes system writes it: schema-registry Avro with a boolean outcome. */
    static byte[] chargeback(Label l, int schemaId) {
        GenericRecord outcome =
                new GenericData.Record(CHARGEBACK.getField("outcome").schema());
        outcome.put("fraud", l.getValue() == 1.0);
        GenericRecord r = new GenericData.Record(CHARGEBACK);
        r.put("txn_id", l.getRequestId());
        r.put("decided", l.getLabelTime().toEpochMilli());
        r.put("outcome", outcome);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(new byte[] {
                0, (byte) (schemaId >>> 24), (byte) (schemaId >>> 16), (byte) (schemaId >>> 8), (byte) schemaId
            });
            BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<GenericRecord>(CHARGEBACK).write(r, enc);
            enc.flush();
            return out.toByteArray();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
