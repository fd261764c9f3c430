package io.nimbus.lin;

import io.nimbus.lin.RandomHistories.GenOp;
import io.nimbus.lin.RandomHistories.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property: every history made by running a reference register at linearization points chosen inside the
 * operations' intervals (with in-doubt and failed operations mixed in) is linearizable.
 */
class RandomHistoriesPassTest {

    private static int checkAll(Random rnd, int histories, Shape shape) {
        int ops = 0;
        for (int i = 0; i < histories; i++) {
            List<GenOp> gen = RandomHistories.generate(rnd, shape);
            History h = RandomHistories.toHistory(gen);
            Result r = LinearizabilityChecker.check(h);
            int n = i;
            assertTrue(r.isLinearizable(), () -> "history " + n + " of " + shape + ": " + r + "\n"
                    + OracleCrossCheckTest.dump(h));
            ops += gen.size();
        }
        return ops;
    }

    @Test
    void shortHistoriesWithUniqueValues() {
        int ops = checkAll(new Random(1), 200, new Shape(2, 4, 20, 5, 2, 0.1, 0.05, false, false));
        assertTrue(ops == 4000);
    }

    @Test
    void shortHistoriesWithFewValuesSoInDoubtVersionsAreAmbiguous() {
        checkAll(new Random(2), 200, new Shape(1, 4, 16, 5, 2, 0.15, 0.05, true, false));
    }

    @Test
    void highlyConcurrentHistories() {
        checkAll(new Random(3), 100, new Shape(1, 8, 30, 12, 0, 0.05, 0.02, false, false));
    }

    @Test
    void longHistories() {
        checkAll(new Random(4), 10, new Shape(3, 5, 400, 8, 3, 0.05, 0.03, false, false));
    }
}
