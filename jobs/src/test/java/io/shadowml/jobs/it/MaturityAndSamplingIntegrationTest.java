package io.shadowml.jobs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import io.shadowml.avro.AvroCodec;
import io.shadowml.avro.ComparisonReport;
import io.shadowml.avro.LabelDelay;
import io.shadowml.avro.WindowKind;
import io.shadowml.embedded.EmbeddedKafkaExtension;
import io.shadowml.embedded.scenario.LabelledRequest;
import io.shadowml.embedded.scenario.ScenarioData;
import io.shadowml.jobs.sampling.DeterministicSample;
import io.shadowml.jobs.sampling.SamplingTest;

/**
 * Label maturity and traffic sampling through a real broker and the whole job, every figure against a
 * brute-force count over the records sent (jobs/METRICS.md, "Matured evidence", "Label delay",
 * "Sampling").
 */
class MaturityAndSamplingIntegrationTest {
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(2)
            .build());

    @RegisterExtension
    static final EmbeddedKafkaExtension KAFKA = new EmbeddedKafkaExtension();

    static final long DAY = 86_400_000L;
    static final long HORIZON = 14 * DAY;

    @TempDir
    Path tmp;

    private JobRun run(String name, String extraConfig) {
        return new JobRun(KAFKA.kafka(), tmp, name, extraConfig, r -> AvroCodec.encode(r), l -> AvroCodec.encode(l));
    }

    /**
     * With label_maturity 2 days, every CUMULATIVE report's paired section holds exactly the requests older
     * than 2 days at its window end with a label within 2 days of them, and paired_so_far every label so
     * far; the label delays are those of the labels sent.
     */
    @Test
    void theVerdictsEvidenceIsTheMaturedCohortAtEveryLook() throws Exception {
        List<LabelledRequest> events = ScenarioData.fraud(1500);
        long maturity = 2 * DAY;
        JobRun run = run("matured", "label_maturity: 2d");
        run.produce(events, List.of(), List.of());
        run.execute();
        ComparisonReport last = run.finalReport(events.size());
        List<ComparisonReport> cumulative = run
                .readCommitted(
                        "reports",
                        ComparisonReport.class,
                        rs -> rs.stream().anyMatch(x -> x.getWindowEnd().equals(last.getWindowEnd())))
                .stream()
                .filter(r -> r.getWindowKind() == WindowKind.CUMULATIVE)
                .sorted(Comparator.comparing(ComparisonReport::getWindowEnd))
                .toList();
        assertTrue(cumulative.size() > 10, "a look per day: " + cumulative.size());
        boolean sawImmatureLabels = false;
        for (ComparisonReport r : cumulative) {
            long end = r.getWindowEnd().toEpochMilli();
            long maturedRequests = 0;
            long maturedLabelled = 0;
            for (LabelledRequest e : events) {
                long t = e.request().getEventTime().toEpochMilli();
                if (t + maturity < end) {
                    maturedRequests++;
                    if (e.labelled() && e.label().getLabelTime().toEpochMilli() <= t + maturity) {
                        maturedLabelled++;
                    }
                }
            }
            assertEquals(maturedRequests, r.getCounts().getMaturedRequests(), "matured requests at " + end);
            assertEquals(maturedLabelled, r.getCounts().getMaturedLabelled(), "matured labelled at " + end);
            assertEquals(maturedLabelled, r.getPaired().get(0).getPairs(), "verdict pairs at " + end);
            sawImmatureLabels |= r.getPairedSoFar().get(0).getPairs() > maturedLabelled;
        }
        assertTrue(sawImmatureLabels, "some look had labels that had not matured yet");

        // At the end every label within the horizon has joined, and the delays are theirs, by class.
        List<List<Double>> delays = List.of(new ArrayList<>(), new ArrayList<>());
        for (LabelledRequest e : events) {
            long t = e.request().getEventTime().toEpochMilli();
            if (e.labelled() && e.label().getLabelTime().toEpochMilli() <= t + HORIZON) {
                long delay = Math.max(0, e.label().getLabelTime().toEpochMilli() - t);
                delays.get((int) e.label().getValue()).add(delay / 1000.0);
            }
        }
        assertEquals(
                delays.get(0).size() + delays.get(1).size(), last.getCounts().getLabelled());
        assertEquals(
                last.getCounts().getLabelled(), last.getPairedSoFar().get(0).getPairs());
        for (LabelDelay d : last.getLabelDelays()) {
            List<Double> truth = delays.get(Integer.parseInt(d.getLabelClass()));
            Collections.sort(truth);
            assertEquals(truth.size(), d.getLabels(), "class " + d.getLabelClass());
            // KLL quantiles: the reported value's rank among the true delays within the sketch's error.
            checkRank(truth, d.getP50Seconds(), 0.5, d.getLabelClass());
            checkRank(truth, d.getP90Seconds(), 0.9, d.getLabelClass());
        }
    }

    private static void checkRank(List<Double> sorted, double value, double q, String labelClass) {
        long below = sorted.stream().filter(v -> v < value).count();
        long atOrBelow = sorted.stream().filter(v -> v <= value).count();
        double slack = 0.03 * sorted.size() + 1;
        assertTrue(
                below <= q * sorted.size() + slack && atOrBelow >= q * sorted.size() - slack,
                "class " + labelClass + " q" + q + " = " + value + ": ranks " + below + ".." + atOrBelow + " of "
                        + sorted.size());
    }

    /**
     * sample_rate 0.3: the sample is scored and joined, the rest counted, requests and labels alike; the
     * candidate with a rate of its own (0.1 of all traffic) is compared, labelled and paired on its share
     * only, and is never counted as failing on the others.
     */
    @Test
    void samplingScoresTheSampleAndCountsTheRest() throws Exception {
        List<LabelledRequest> events = ScenarioData.fraud(1500);
        long sampled = 0;
        long sampledLabelled = 0;
        long unsampledLabels = 0;
        long candidateScored = 0;
        long candidateLabelled = 0;
        for (LabelledRequest e : events) {
            String id = e.request().getRequestId();
            boolean in = SamplingTest.documentedRule(id, 0.3, DeterministicSample.EXPERIMENT_SALT);
            boolean candidateIn = SamplingTest.documentedRule(id, 0.1, DeterministicSample.EXPERIMENT_SALT);
            assertTrue(in || !candidateIn, "the candidate's share is within the sample");
            long t = e.request().getEventTime().toEpochMilli();
            boolean joins = e.labelled() && e.label().getLabelTime().toEpochMilli() <= t + HORIZON;
            sampled += in ? 1 : 0;
            sampledLabelled += in && joins ? 1 : 0;
            unsampledLabels += !in && e.labelled() ? 1 : 0;
            candidateScored += candidateIn ? 1 : 0;
            candidateLabelled += candidateIn && joins ? 1 : 0;
        }
        assertTrue(sampled > 350 && sampled < 550, "about 30% of 1500: " + sampled);
        assertTrue(candidateScored > 100 && candidateScored < 200, "about 10% of 1500: " + candidateScored);
        JobRun run = run("sampled", "sample_rate: 0.3\ncandidate_sample_rates: {\"fraud-mlp:2.0.0\": 0.1}");
        run.produce(events, List.of(), List.of());
        run.execute();
        ComparisonReport r = run.finalReport((int) sampled);
        assertEquals(sampled, r.getCounts().getScored());
        assertEquals(events.size() - sampled, r.getCounts().getUnsampledRequests());
        assertEquals(sampledLabelled, r.getCounts().getLabelled());
        assertEquals(unsampledLabels, r.getCounts().getUnsampledLabels());
        assertEquals(sampled - sampledLabelled, r.getCounts().getExpiredUnlabeled());
        assertEquals(0, r.getCounts().getUnknownLabels(), "no label of an unsampled request reached the join");
        assertEquals(0.3, r.getMetrics().get("sample_rate"));
        assertEquals(0.1, r.getMetrics().get("sample_rate[fraud-mlp:2.0.0]"));
        // The candidate: its own share only, and no errors for the requests outside it.
        assertEquals(candidateScored, r.getDisagreement().get(0).getCompared());
        assertEquals(sampledLabelled, r.getQuality().get(0).getLabelled(), "the live model: the whole sample");
        assertEquals(candidateLabelled, r.getQuality().get(1).getLabelled());
        assertEquals(0, r.getQuality().get(1).getErrors());
        assertEquals(0.0, r.getQuality().get(1).getMetrics().get("error_rate"));
        assertEquals(candidateLabelled, r.getPaired().get(0).getPairs());
        assertEquals(candidateLabelled, r.getPairedSoFar().get(0).getPairs());
    }
}
