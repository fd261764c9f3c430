package io.nimbus.lin;

import io.nimbus.lin.RandomHistories.GenOp;
import io.nimbus.lin.RandomHistories.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** About 2,000 operations over 5 keys with up to 5 clients in flight check in well under a few seconds. */
class PerformanceTest {
    private static final Shape SIMULATION = new Shape(5, 5, 2000, 10, 2, 0.03, 0.02, false, false);
    private static final Shape FAULTY = new Shape(5, 5, 2000, 10, 2, 0.10, 0.02, false, false);
    private static final Shape HOT_KEY = new Shape(1, 5, 2000, 10, 2, 0.05, 0.02, false, false);
    private static final long BUDGET_MS = 3000;

    private static Result timed(History h, LinearizabilityChecker.Limits limits, String what) {
        long start = System.nanoTime();
        Result r = LinearizabilityChecker.check(h, limits);
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.println("PerformanceTest " + what + ": " + r.verdict() + " in " + ms + " ms");
        assertTrue(ms < BUDGET_MS, what + " took " + ms + " ms");
        return r;
    }

    private static History history(Shape shape, long seed, boolean corrupt) {
        Random rnd = new Random(seed);
        List<GenOp> ops = RandomHistories.generate(rnd, shape);
        return RandomHistories.toHistory(corrupt ? Mutations.certainlyStaleRead(ops, rnd) : ops);
    }

    @Test
    void aLinearizableSimulationRunChecksFast() {
        for (long seed = 1; seed <= 5; seed++) {
            Result r = timed(history(SIMULATION, seed, false), LinearizabilityChecker.Limits.DEFAULT, "2000 ops, seed " + seed);
            assertTrue(r.isLinearizable(), r::toString);
        }
    }

    @Test
    void aViolationInASimulationRunIsFoundFastBySearchAlone() {
        for (long seed = 1; seed <= 5; seed++) {
            Result r = timed(history(SIMULATION, seed, true), LinearizabilityChecker.Limits.SEARCH_ONLY,
                    "2000 ops, one stale read, search only, seed " + seed);
            assertTrue(r.isViolation(), r::toString);
        }
    }

    @Test
    void tenPercentIndeterminateStillChecksFast() {
        for (long seed = 1; seed <= 3; seed++) {
            assertTrue(timed(history(FAULTY, seed, false), LinearizabilityChecker.Limits.DEFAULT,
                    "2000 ops, 10% in doubt, seed " + seed).isLinearizable());
            assertTrue(timed(history(FAULTY, seed, true), LinearizabilityChecker.Limits.DEFAULT,
                    "2000 ops, 10% in doubt, one stale read, seed " + seed).isViolation());
        }
    }

    @Test
    void oneHotKeyWithTwoThousandOperations() {
        for (long seed = 1; seed <= 3; seed++) {
            assertTrue(timed(history(HOT_KEY, seed, false), LinearizabilityChecker.Limits.DEFAULT,
                    "one key, 2000 ops, seed " + seed).isLinearizable());
            assertTrue(timed(history(HOT_KEY, seed, true), LinearizabilityChecker.Limits.DEFAULT,
                    "one key, 2000 ops, one stale read, seed " + seed).isViolation());
        }
    }
}
