package io.shadowml.jobs.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelDescriptor;
import io.shadowml.models.ModelOptions;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * The time budget with a real expensive model (models/shipped/fraud/slow-candidate: 24 layers of 64x64,
 * about 10x the live model's cost): a batch of 32,768 rows takes about 50 ms, far beyond a 1 or 10 ms
 * budget, so whether the budget stops it does not depend on timing luck. A stopped run is recognised by
 * ONNX Runtime failing the call after the watchdog set the terminate flag; no elapsed time is asserted.
 */
class CandidateTimeBudgetTest {
    private static final int ROWS = 32_768;
    private static OnnxModel slow;
    private static InputBatch big;
    private static float[] expected;

    @BeforeAll
    static void load() {
        ModelDescriptor d = ModelDescriptor.load(Path.of("../models/shipped/fraud/slow-candidate/model.json"));
        slow = OnnxModel.load(d, ModelOptions.defaults().withMaxBatchSize(ROWS));
        big = slow.newInputBatch();
        Random r = new Random(11);
        for (int i = 0; i < ROWS; i++) {
            for (int f = 0; f < d.featureCount(); f++) {
                big.set(f, (float) (r.nextGaussian() * 10));
            }
            big.endRow();
        }
        PredictionBatch p = slow.score(big);
        expected = new float[ROWS];
        for (int i = 0; i < ROWS; i++) {
            expected[i] = p.score(i);
        }
    }

    @AfterAll
    static void close() {
        slow.close();
    }

    private static void assertScoresAsWithoutBudget(PredictionBatch p) {
        for (int i = 0; i < ROWS; i++) {
            assertEquals(expected[i], p.score(i), "row " + i);
        }
    }

    @Test
    void aCandidateOverItsBudgetIsStoppedAndThenSitsOutBatches() {
        try (CandidateTimeBudget budget = new CandidateTimeBudget(Duration.ofMillis(1), 2)) {
            CandidateTimeBudget.Exceeded e =
                    assertThrows(CandidateTimeBudget.Exceeded.class, () -> budget.score(1, slow, big));
            assertTrue(e.getMessage().startsWith("over its time budget of 1.0 ms"), e.getMessage());
            assertTrue(e.getMessage().endsWith("sits out the next 1 batch"), e.getMessage());
            assertNotNull(budget.skip(1), "sits out one batch");
            assertNull(budget.skip(1), "then scores again");
            assertNull(budget.skip(0), "the other models are not affected");
            // A second overrun in a row doubles the penalty.
            e = assertThrows(CandidateTimeBudget.Exceeded.class, () -> budget.score(1, slow, big));
            assertTrue(e.getMessage().endsWith("sits out the next 2 batches"), e.getMessage());
            assertNotNull(budget.skip(1));
            assertNotNull(budget.skip(1));
            assertNull(budget.skip(1));
        }
    }

    @Test
    void theModelScoresNormallyAfterBeingStopped() {
        try (CandidateTimeBudget tight = new CandidateTimeBudget(Duration.ofMillis(1), 2)) {
            assertThrows(CandidateTimeBudget.Exceeded.class, () -> tight.score(1, slow, big));
        }
        // The terminate flag was cleared: without a budget the same model scores the same batch exactly.
        assertScoresAsWithoutBudget(slow.score(big));
        try (CandidateTimeBudget generous = new CandidateTimeBudget(Duration.ofMinutes(5), 2)) {
            assertScoresAsWithoutBudget(generous.score(1, slow, big));
        }
    }

    @Test
    void aCallWithinTheBudgetEndsThePenalty() {
        // 10 ms: the big batch takes several times that, a one-row call microseconds (even on a busy machine).
        try (CandidateTimeBudget budget = new CandidateTimeBudget(Duration.ofMillis(10), 2)) {
            assertThrows(CandidateTimeBudget.Exceeded.class, () -> budget.score(1, slow, big));
            assertThrows(CandidateTimeBudget.Exceeded.class, () -> budget.score(1, slow, big));
            // A small batch of the same model fits the budget... (one row: microseconds)
            InputBatch one = slow.newInputBatch();
            for (int f = 0; f < 9; f++) {
                one.set(f, 1f);
            }
            one.endRow();
            budget.skip(1);
            budget.skip(1);
            assertNotNull(budget.score(1, slow, one));
            // ...and the next overrun starts again at one batch.
            CandidateTimeBudget.Exceeded e =
                    assertThrows(CandidateTimeBudget.Exceeded.class, () -> budget.score(1, slow, big));
            assertTrue(e.getMessage().endsWith("sits out the next 1 batch"), e.getMessage());
        }
    }

    @Test
    void theLiveModelHasNoBudget() {
        try (CandidateTimeBudget budget = new CandidateTimeBudget(Duration.ofMillis(1), 2)) {
            assertScoresAsWithoutBudget(budget.score(0, slow, big));
            assertNull(budget.skip(0));
        }
    }

    @Test
    void withoutABudgetNothingIsStopped() {
        try (CandidateTimeBudget none = new CandidateTimeBudget(null, 2)) {
            assertScoresAsWithoutBudget(none.score(1, slow, big));
            assertNull(none.skip(1));
        }
    }
}
