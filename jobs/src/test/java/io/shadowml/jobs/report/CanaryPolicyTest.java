package io.shadowml.jobs.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

import io.shadowml.avro.Decision;
import io.shadowml.avro.TestResult;
import io.shadowml.jobs.config.CanaryConfig;
import io.shadowml.jobs.metrics.ArmEvidence;
import io.shadowml.jobs.metrics.ArmFixtures;
import io.shadowml.jobs.metrics.ArmLayout;
import io.shadowml.models.ModelDescriptor.Task;

/** The canary rules of {@link CanaryPolicy}: each decision on evidence built from counts, and simulations. */
class CanaryPolicyTest {
    static final CanaryConfig CONFIG = ArmFixtures.canary(0.05, 0.01, 200);
    static final ArmLayout ARMS = ArmFixtures.binaryLayout(CONFIG).arms();

    private static CanaryPolicy.Assessment assess(
            long[] scored, long[] labelled, long[] correct, VerdictMemory memory, long end) {
        CanaryPolicy policy = new CanaryPolicy(CONFIG, Task.BINARY);
        ArmEvidence e = ArmFixtures.evidence(ARMS, scored, labelled, correct);
        CanaryPolicy.SrmResult srm = policy.sampleRatio(e, ARMS, memory == null ? null : memory.candidate("srm"));
        return policy.assess(e, ARMS, 1, srm, memory == null ? null : memory.candidate("canary"), end);
    }

    @Test
    void continuesBelowMinLabelled() {
        CanaryPolicy.Assessment a = assess(new long[] {900, 100}, new long[] {900, 150}, new long[] {800, 20}, null, 1);
        // 20 of 150 right against 800 of 900 would roll back with enough outcomes; 150 < 200.
        assertEquals(Decision.CONTINUE, a.decision());
        assertTrue(
                a.reasons().get(0).contains("canary.min_labelled is 200"),
                a.reasons().toString());
    }

    @Test
    void rollsBackWhenClearlyWorseThanControlByMoreThanTheMargin() {
        CanaryPolicy.Assessment a =
                assess(new long[] {45_000, 5_000}, new long[] {45_000, 5_000}, new long[] {38_250, 3_500}, null, 1);
        assertEquals(Decision.ROLLBACK, a.decision());
        TestResult q = a.tests().get(0);
        assertEquals(0.70 - 0.85, q.getEstimate(), 1e-12);
        assertTrue(q.getHigh() < -0.01, q.toString());
        assertTrue(
                a.reasons().get(0).startsWith("accuracy lower than control"),
                a.reasons().toString());
    }

    @Test
    void proceedsWhenShownNoWorseThanTheMargin() {
        CanaryPolicy.Assessment a = assess(
                new long[] {900_000, 100_000}, new long[] {900_000, 100_000}, new long[] {765_000, 85_000}, null, 1);
        TestResult q = a.tests().get(0);
        assertEquals(0.0, q.getEstimate(), 1e-12);
        assertTrue(q.getLow() > -0.01 && q.getHigh() > 0, q.toString());
        assertEquals(Decision.PROCEED, a.decision());
    }

    @Test
    void aSampleRatioMismatchRollsBackEvenBeforeAnyOutcome() {
        // Configured 90/10, served 80/20 over 10,000 requests.
        CanaryPolicy.Assessment a = assess(new long[] {8_000, 2_000}, new long[] {0, 0}, new long[] {0, 0}, null, 1);
        assertEquals(Decision.ROLLBACK, a.decision());
        assertTrue(
                a.reasons().get(0).startsWith("sample ratio mismatch"),
                a.reasons().toString());
        TestResult srm = a.tests().get(a.tests().size() - 1);
        assertEquals("srm", srm.getTest());
        assertEquals(0.2 - 0.1, srm.getEstimate(), 1e-12, "the canary's share minus its expected share");
        // A split right on the configured one is no mismatch.
        assertEquals(
                Decision.CONTINUE,
                assess(new long[] {9_000, 1_000}, new long[] {0, 0}, new long[] {0, 0}, null, 1)
                        .decision());
    }

    @Test
    void theFirstDecisionStands() {
        VerdictMemory memory = new VerdictMemory();
        CanaryPolicy.Assessment first =
                assess(new long[] {45_000, 5_000}, new long[] {45_000, 5_000}, new long[] {38_250, 3_500}, memory, 100);
        assertEquals(Decision.ROLLBACK, first.decision());
        CanaryPolicy.Assessment later = assess(
                new long[] {900_000, 100_000},
                new long[] {900_000, 100_000},
                new long[] {765_000, 85_000},
                memory,
                200);
        assertEquals(Decision.ROLLBACK, later.decision());
        assertEquals(100, later.firstDecidedAt());
        assertEquals(first.reasons(), later.reasons());
    }

    /**
     * Looked at after every 500 outcomes up to 20,000, with the canary's share of the outcomes ramped
     * from 10% to 50% halfway: an A/A canary (both 80% accurate) is almost never rolled back, and a
     * canary truly 3 points worse (beyond the 1-point margin) is almost never let through. Both rates
     * over 1,000 experiments must stay below alpha = 0.05.
     */
    @Test
    void falseDecisionsStayBelowAlphaUnderContinuousLookingAndARamp() {
        Random rnd = new Random(20261202L);
        int experiments = 1_000;
        int falseRollbacks = 0;
        int falseProceeds = 0;
        for (int x = 0; x < experiments; x++) {
            falseRollbacks += simulate(rnd, 0.80, Decision.ROLLBACK) ? 1 : 0;
            falseProceeds += simulate(rnd, 0.77, Decision.PROCEED) ? 1 : 0;
        }
        double rollbackRate = (double) falseRollbacks / experiments;
        double proceedRate = (double) falseProceeds / experiments;
        System.out.printf(
                "canary simulation (%d experiments, 40 looks, ramp 10%%->50%%): A/A ever ROLLBACK %.4f,"
                        + " 3 points worse ever PROCEED %.4f (alpha 0.05)%n",
                experiments, rollbackRate, proceedRate);
        assertTrue(rollbackRate <= 0.05, "A/A false rollback rate " + rollbackRate);
        assertTrue(proceedRate <= 0.05, "false proceed rate " + proceedRate);
    }

    /** Whether the canary was ever given {@code wrong} in one simulated experiment. */
    private static boolean simulate(Random rnd, double canaryAccuracy, Decision wrong) {
        VerdictMemory memory = new VerdictMemory();
        long[] labelled = new long[2];
        long[] correct = new long[2];
        for (int look = 1; look <= 40; look++) {
            double canaryShare = look <= 20 ? 0.1 : 0.5;
            for (int k = 0; k < 500; k++) {
                int arm = rnd.nextDouble() < canaryShare ? 1 : 0;
                labelled[arm]++;
                correct[arm] += rnd.nextDouble() < (arm == 1 ? canaryAccuracy : 0.80) ? 1 : 0;
            }
            long total = look * 500L;
            // The scored split as configured, so only the quality test decides.
            long[] scored = {Math.round(total * 0.9), Math.round(total * 0.1)};
            CanaryPolicy.Assessment a = assess(scored, labelled.clone(), correct.clone(), memory, look);
            if (a.decision() == wrong) {
                return true;
            }
            if (a.decision() != Decision.CONTINUE) {
                return false;
            }
        }
        return false;
    }
}
