package io.nimbus.lin;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the checker says: readable violations, and UNKNOWN kept apart from violations. */
class ExplanationTest {

    private static History lostWrite() {
        return new History()
                .invoke("c0", Op.write("k", "a"), 0).okWritten("c0", "v1", 10)
                .invoke("c1", Op.write("k", "b"), 20).okWritten("c1", "v2", 30)
                .invoke("c2", Op.read("k"), 40).okFound("c2", "a", "v1", 50);
    }

    @Test
    void aCertainlyStaleVersionIsExplainedDirectly() {
        String text = LinearizabilityChecker.check(lostWrite()).explanation();
        assertTrue(text.startsWith("key \"k\" is not linearizable: #2 c2 read(k) [40, 50] -> ok \"a\"@v1 relies on"
                + " version v1, but #0 c0 write(k, \"a\") [0, 10] -> ok new version v1 made it and #1 c1 write(k, \"b\")"
                + " [20, 30] -> ok new version v2 changed the key after 10 and before 40"), text);
        assertTrue(text.contains("Longest linearizable prefix: 2 of 3 operations"), text);
    }

    @Test
    void aViolationNamesTheKeyThePrefixTheBlockingOperationAndWhy() {
        Result r = LinearizabilityChecker.check(lostWrite(), LinearizabilityChecker.Limits.SEARCH_ONLY);
        String text = r.explanation();
        assertTrue(r.isViolation());
        assertTrue(text.contains("key \"k\" is not linearizable"), text);
        assertTrue(text.contains("Longest linearizable prefix: 2 of 3 operations"), text);
        assertTrue(text.contains("1. #0 c0 write(k, \"a\") [0, 10] -> ok new version v1   => \"a\"@v1"), text);
        assertTrue(text.contains("2. #1 c1 write(k, \"b\") [20, 30] -> ok new version v2   => \"b\"@v2"), text);
        assertTrue(text.contains("Then #2 c2 read(k) [40, 50] -> ok \"a\"@v1 had to take effect before its response"
                + " at 50, but from state \"b\"@v2"), text);
        assertTrue(text.contains("returned what the register did not hold (\"b\"@v2)"), text);

        Result.KeyResult key = r.keys().get(0);
        assertEquals(List.of(0, 1), key.longestPrefix().stream().map(Operation::id).toList());
        assertEquals(2, key.blocking().id());
    }

    @Test
    void aPreconditionFailureIsExplained() {
        History h = new History()
                .invoke("c0", Op.write("k", "a"), 0).okWritten("c0", "v1", 1)
                .invoke("c1", Op.write("k", "b"), 2).okWritten("c1", "v2", 3)
                .invoke("c2", Op.cas("k", "v1", "c"), 4).okWritten("c2", "v3", 5);
        String text = LinearizabilityChecker.check(h, LinearizabilityChecker.Limits.SEARCH_ONLY).explanation();
        assertTrue(text.contains("needs version v1, but the register is \"b\"@v2"), text);
    }

    @Test
    void aVersionNobodyCanHaveMadeIsExplained() {
        History h = new History()
                .invoke("c0", Op.write("k", "a"), 0).okWritten("c0", "v1", 1)
                .invoke("c1", Op.read("k"), 2).okFound("c1", "x", "v9", 3);
        Result r = LinearizabilityChecker.check(h);
        assertTrue(r.isViolation());
        assertTrue(r.explanation().contains("observed version v9, which no operation can have made"),
                r.explanation());
        assertNull(r.keys().get(0).blocking());
    }

    @Test
    void aLinearizableHistorySaysSo() {
        History h = new History().invoke("c0", Op.write("k", "a"), 0).okWritten("c0", "v1", 1);
        Result r = LinearizabilityChecker.check(h);
        assertTrue(r.isLinearizable());
        assertTrue(r.explanation().startsWith("linearizable: 1 operations on 1 keys"), r.explanation());
    }

    @Test
    void runningOutOfBudgetIsUnknownNotAViolation() {
        History h = new History();
        for (int c = 0; c < 6; c++) {
            h.invoke("c" + c, Op.write("k", "v" + c), 0);
        }
        for (int c = 0; c < 6; c++) {
            h.okWritten("c" + c, "ver" + c, 10);
        }
        h.invoke("r", Op.read("k"), 11).okFound("r", "v0", "ver0", 12);
        Result tight = LinearizabilityChecker.check(h, LinearizabilityChecker.Limits.ofStates(3));
        assertTrue(tight.isUnknown(), tight::toString);
        assertTrue(tight.explanation().contains("gave up"), tight.explanation());
        assertTrue(LinearizabilityChecker.check(h).isLinearizable());
    }

    @Test
    void aViolationOnOneKeyOutranksUnknownOnAnother() {
        History h = lostWrite();
        for (int c = 0; c < 6; c++) {
            h.invoke("w" + c, Op.write("other", "v" + c), 100);
        }
        for (int c = 0; c < 6; c++) {
            h.okWritten("w" + c, "ver" + c, 110);
        }
        Result r = LinearizabilityChecker.check(h, LinearizabilityChecker.Limits.ofStates(3));
        assertTrue(r.isViolation(), r::toString);
    }
}
