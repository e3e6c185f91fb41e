package io.shadowml.jobs.scoring;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.shadowml.models.InputBatch;
import io.shadowml.models.ModelScoringException;
import io.shadowml.models.OnnxModel;
import io.shadowml.models.PredictionBatch;

/**
 * Keeps a slow candidate from stalling the scoring of every model ({@code models.candidate_time_budget}):
 * a candidate's call for one batch that runs longer than the budget is stopped (ONNX Runtime's terminate
 * flag, set by a watchdog thread), and its rows of that batch are errors for that candidate only. After an
 * overrun the candidate sits out the next batches, twice as many after each consecutive overrun (1, 2, 4
 * ... up to {@link #MAX_SKIPPED_BATCHES}), so one that is always too slow costs a budget only now and
 * then; a call within the budget ends the penalty. The live model has no budget: it is the reference.
 *
 * <p>Unlike everything else in the scoring stage this depends on the wall clock: which rows are errors can
 * differ between a run and its replay after a restart. Without a budget (the default) scoring is
 * deterministic.
 */
final class CandidateTimeBudget implements AutoCloseable {
    static final int MAX_SKIPPED_BATCHES = 1024;

    private final long budgetNanos;
    private final ScheduledExecutorService watchdog;
    /** Per model: consecutive overruns, and batches still to sit out. */
    private final int[] overruns;

    private final int[] skipLeft;

    /** @param budget per candidate call; null or zero: no budget (and no watchdog thread) */
    CandidateTimeBudget(Duration budget, int models) {
        this.budgetNanos = budget == null ? 0 : budget.toNanos();
        this.overruns = new int[models];
        this.skipLeft = new int[models];
        if (budgetNanos > 0) {
            ScheduledThreadPoolExecutor w = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "shadowml-candidate-time-budget");
                t.setDaemon(true);
                return t;
            });
            w.setRemoveOnCancelPolicy(true); // cancelled watchdogs are the common case: do not let them pile up
            watchdog = w;
        } else {
            watchdog = null;
        }
    }

    /** Why candidate {@code m} sits this batch out, or null if it scores it. Counts the batch as sat out. */
    String skip(int m) {
        if (skipLeft[m] == 0) {
            return null;
        }
        skipLeft[m]--;
        return "skipped: over its time budget of " + millis(budgetNanos) + " in a recent batch";
    }

    /** Scores with the budget (candidates, m > 0) or without (the live model, or no budget configured). */
    PredictionBatch score(int m, OnnxModel model, InputBatch batch) {
        if (m == 0 || watchdog == null) {
            return model.score(batch);
        }
        long start = System.nanoTime();
        ScheduledFuture<?> alarm = watchdog.schedule(model::interrupt, budgetNanos, TimeUnit.NANOSECONDS);
        try {
            PredictionBatch result = model.score(batch);
            overruns[m] = 0;
            return result;
        } catch (ModelScoringException e) {
            if (!alarm.isDone() || alarm.isCancelled()) {
                throw e; // it failed on its own
            }
            int skipped = Math.min(MAX_SKIPPED_BATCHES, 1 << Math.min(30, overruns[m]));
            overruns[m]++;
            skipLeft[m] = skipped;
            throw new Exceeded(
                    "over its time budget of " + millis(budgetNanos) + " (stopped after "
                            + millis(System.nanoTime() - start) + "); sits out the next " + skipped + " batch"
                            + (skipped == 1 ? "" : "es"),
                    e);
        } finally {
            if (!alarm.cancel(false)) {
                awaitAlarm(alarm); // it fired (or is firing): let it finish before the flag is cleared
                model.clearInterrupt();
            }
        }
    }

    /** A candidate's call stopped for running over the budget. */
    static final class Exceeded extends ModelScoringException {
        private static final long serialVersionUID = 1L;

        Exceeded(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static void awaitAlarm(ScheduledFuture<?> alarm) {
        try {
            alarm.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // interrupt() failed: the run ended on its own anyway
        }
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f ms", nanos / 1e6);
    }

    @Override
    public void close() {
        if (watchdog != null) {
            watchdog.shutdownNow();
        }
    }
}
