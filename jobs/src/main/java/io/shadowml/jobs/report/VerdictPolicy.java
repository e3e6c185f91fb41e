package io.shadowml.jobs.report;

import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.shadowml.avro.Decision;
import io.shadowml.avro.Verdict;
import io.shadowml.jobs.config.VerdictPolicyConfig;
import io.shadowml.jobs.metrics.ExperimentAccumulator;
import io.shadowml.jobs.metrics.ModelLayout;
import io.shadowml.jobs.metrics.PairedComparisonAccumulator;
import io.shadowml.models.ModelDescriptor.Task;

/**
 * Decides on a candidate from the cumulative paired evidence:
 * <ol>
 *   <li>REJECT if its error rate exceeds {@code max_candidate_error_rate}.</li>
 *   <li>CONTINUE while fewer than {@code min_labelled_pairs} labelled pairs exist.</li>
 *   <li>REJECT if it is significantly worse: the 95% CI of (candidate − live) loss lies above 0, or
 *       McNemar is significant at {@code alpha} with the live model right more often.</li>
 *   <li>PROMOTE if it is significantly better on loss (CI below 0) and not significantly worse on
 *       McNemar.</li>
 *   <li>CONTINUE otherwise (no significant difference yet).</li>
 * </ol>
 */
public final class VerdictPolicy implements Serializable {
    private static final long serialVersionUID = 1L;
    private final VerdictPolicyConfig config;

    public VerdictPolicy(VerdictPolicyConfig config) {
        this.config = config;
    }

    public Verdict decide(
            String experimentId, long decidedAt, ExperimentAccumulator cumulative, ModelLayout layout, int c) {
        List<String> reasons = new ArrayList<>();
        Decision decision = decision(cumulative, layout, c, reasons);
        return Verdict.newBuilder()
                .setExperimentId(experimentId)
                .setCandidate(layout.modelId(c))
                .setDecidedAt(Instant.ofEpochMilli(decidedAt))
                .setDecision(decision)
                .setReasons(reasons)
                .build();
    }

    private Decision decision(ExperimentAccumulator acc, ModelLayout layout, int c, List<String> reasons) {
        double errorRate = acc.scored() == 0 ? 0 : (double) acc.errors(c) / acc.scored();
        if (errorRate > config.maxCandidateErrorRate()) {
            reasons.add(format("error rate %.4f above the allowed %.4f", errorRate, config.maxCandidateErrorRate()));
            return Decision.REJECT;
        }
        PairedComparisonAccumulator p = acc.paired(c);
        if (p.count() < config.minLabelledPairs()) {
            reasons.add(format("%d labelled pairs, %d needed", p.count(), config.minLabelledPairs()));
            return Decision.CONTINUE;
        }
        double[] ci = p.lossDifferenceCi95();
        String loss = layout.task() == Task.REGRESSION ? "squared error" : "log loss";
        boolean classification = layout.task() != Task.REGRESSION;
        double mcnemar = p.mcnemarPValue();
        boolean mcnemarWorse =
                classification && mcnemar < config.alpha() && p.liveOnlyCorrect() > p.candidateOnlyCorrect();
        boolean mcnemarBetter =
                classification && mcnemar < config.alpha() && p.candidateOnlyCorrect() > p.liveOnlyCorrect();
        String ciText = format("%s difference %.5f, 95%% CI [%.5f, %.5f]", loss, p.meanLossDifference(), ci[0], ci[1]);
        String mcText = format("McNemar b=%d c=%d p=%.4g", p.liveOnlyCorrect(), p.candidateOnlyCorrect(), mcnemar);
        if (ci[0] > 0 || mcnemarWorse) {
            reasons.add("candidate significantly worse: " + (ci[0] > 0 ? ciText : mcText));
            return Decision.REJECT;
        }
        if (ci[1] < 0) {
            reasons.add("candidate significantly better: " + ciText);
            if (classification) {
                reasons.add(mcText + (mcnemarBetter ? " (significant)" : " (not significant)"));
            }
            return Decision.PROMOTE;
        }
        reasons.add("no significant difference yet: " + ciText);
        if (classification) {
            reasons.add(mcText);
        }
        return Decision.CONTINUE;
    }

    private static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
