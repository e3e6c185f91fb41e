package io.shadowml.jobs.metrics;

import java.time.Duration;
import java.util.List;

import io.shadowml.jobs.config.CanaryConfig;

/** Canary arms and arm evidence for tests outside this package (the policy's), built from counts. */
public final class ArmFixtures {
    private ArmFixtures() {}

    /** Binary models bin0 (live, threshold 0.5) and bin1; arms prod (live) and canary (bin1). */
    public static ModelLayout binaryLayout(CanaryConfig canary) {
        ModelLayout models = SegmentSlicesTest.binaryLayout();
        return models.withArms(ArmLayout.of(canary, models));
    }

    /** prod 90 / canary 10 over bin0 and bin1, the given alpha, margin and min_labelled. */
    public static CanaryConfig canary(double alpha, double margin, long minLabelled) {
        return canary(1, alpha, margin, minLabelled, null);
    }

    /** prod (bin0) 90 / canary (model {@code canaryModel}) 10, with {@code business} (or none). */
    public static CanaryConfig canary(
            int canaryModel, double alpha, double margin, long minLabelled, CanaryConfig.BusinessMetric business) {
        return new CanaryConfig(
                List.of("prod", "canary"),
                new int[] {0, canaryModel},
                new double[] {0.9, 0.1},
                alpha,
                0.001,
                margin,
                minLabelled,
                10_000,
                false,
                business,
                Duration.ofDays(14));
    }

    /**
     * Evidence of the layout's arms: per arm, scored requests and matured labelled outcomes with
     * {@code correct} of them right (loss and business figures left at 0).
     */
    public static ArmEvidence evidence(ArmLayout arms, long[] scored, long[] labelled, long[] correct) {
        ArmEvidence e = new ArmEvidence(arms);
        for (int a = 0; a < arms.arms(); a++) {
            ArmEvidence.Arm arm = e.arms.get(a);
            arm.scored = scored[a];
            arm.matured.labelled = labelled[a];
            arm.matured.correct = correct[a];
        }
        return e;
    }
}
