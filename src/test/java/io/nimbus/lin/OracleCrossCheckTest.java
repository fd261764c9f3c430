package io.nimbus.lin;

import io.nimbus.lin.RandomHistories.GenOp;
import io.nimbus.lin.RandomHistories.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The checker and {@link BruteForceChecker} must agree exactly on thousands of tiny random histories,
 * some as generated (linearizable) and most corrupted at random (often not).
 */
class OracleCrossCheckTest {
    private static final int HISTORIES = 5000;
    static final List<LinearizabilityChecker.Limits> MODES =
            List.of(LinearizabilityChecker.Limits.DEFAULT, LinearizabilityChecker.Limits.SEARCH_ONLY);

    @Test
    void agreesWithBruteForceOnSmallRandomHistories() {
        Random rnd = new Random(20240611L);
        int linearizable = 0;
        int violations = 0;
        for (int i = 0; i < HISTORIES; i++) {
            Shape shape = new Shape(1 + rnd.nextInt(2), 1 + rnd.nextInt(3), 2 + rnd.nextInt(7), 3, 1,
                    0.2, 0.05, rnd.nextBoolean(), rnd.nextBoolean());
            List<GenOp> ops = RandomHistories.generate(rnd, shape);
            int mutations = rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(2);
            for (int m = 0; m < mutations; m++) {
                ops = Mutations.anything(ops, rnd);
            }
            History h = RandomHistories.toHistory(ops);
            boolean expected = BruteForceChecker.isLinearizable(h);
            for (LinearizabilityChecker.Limits limits : MODES) {
                Result actual = LinearizabilityChecker.check(h, limits);
                if (actual.isUnknown() || actual.isLinearizable() != expected) {
                    fail("history " + i + ": brute force says " + (expected ? "linearizable" : "violation")
                            + ", checker (" + limits + ") says " + actual + "\n" + dump(h));
                }
            }
            if (expected) {
                linearizable++;
            } else {
                violations++;
            }
        }
        assertEquals(HISTORIES, linearizable + violations);
        assertTrue(linearizable > 1000 && violations > 500, linearizable + " linearizable, " + violations + " not");
    }

    static String dump(History h) {
        StringBuilder out = new StringBuilder();
        for (Operation o : h.operations()) {
            out.append("  ").append(o).append('\n');
        }
        return out.toString();
    }
}
