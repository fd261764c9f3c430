package io.nimbus.lin;

import io.nimbus.lin.RandomHistories.GenOp;
import io.nimbus.lin.RandomHistories.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Corrupt one read of a linearizable history to an older state: the checker must notice when it matters. */
class MutationTest {

    @Test
    void olderReadsInSmallHistoriesAreCaughtExactlyWhenTheOracleSaysSo() {
        Random rnd = new Random(99);
        int mutated = 0;
        int violations = 0;
        for (int i = 0; mutated < 2000; i++) {
            Shape shape = new Shape(1, 1 + rnd.nextInt(3), 3 + rnd.nextInt(6), 3, 1, 0.15, 0.05, rnd.nextBoolean(), rnd.nextBoolean());
            List<GenOp> ops = Mutations.olderRead(RandomHistories.generate(rnd, shape), rnd);
            if (ops == null) {
                continue;
            }
            mutated++;
            History h = RandomHistories.toHistory(ops);
            boolean truth = BruteForceChecker.isLinearizable(h);
            for (LinearizabilityChecker.Limits limits : OracleCrossCheckTest.MODES) {
                Result r = LinearizabilityChecker.check(h, limits);
                if (r.isUnknown() || r.isLinearizable() != truth) {
                    fail("oracle says " + (truth ? "linearizable" : "violation") + ", checker " + r + "\n"
                            + OracleCrossCheckTest.dump(h));
                }
            }
            violations += truth ? 0 : 1;
        }
        assertTrue(violations > mutated / 2, violations + " violations among " + mutated);
    }

    @Test
    void certainlyStaleReadsInLongerHistoriesAreAllCaughtBySearchAlone() {
        Random rnd = new Random(7);
        int caught = 0;
        int mutated = 0;
        for (int i = 0; i < 200; i++) {
            Shape shape = new Shape(2, 4, 80, 6, 2, 0.05, 0.03, rnd.nextBoolean(), false);
            List<GenOp> ops = Mutations.certainlyStaleRead(RandomHistories.generate(rnd, shape), rnd);
            if (ops == null) {
                continue;
            }
            mutated++;
            History h = RandomHistories.toHistory(ops);
            Result r = LinearizabilityChecker.check(h, LinearizabilityChecker.Limits.SEARCH_ONLY);
            assertTrue(r.isViolation(), () -> r + "\n" + OracleCrossCheckTest.dump(h));
            assertTrue(LinearizabilityChecker.check(h).isViolation());
            caught++;
        }
        assertTrue(mutated > 150, "mutated " + mutated);
        assertEquals(mutated, caught);
    }
}
