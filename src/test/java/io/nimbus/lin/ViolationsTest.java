package io.nimbus.lin;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Histories that are not linearizable must be caught: the checker must bite. */
class ViolationsTest {

    /** Caught by the checker, by its search alone, and by the brute-force oracle. */
    static Result assertViolation(History h) {
        Result searched = LinearizabilityChecker.check(h, LinearizabilityChecker.Limits.SEARCH_ONLY);
        assertTrue(searched.isViolation(), () -> "search alone: " + searched + "\n" + OracleCrossCheckTest.dump(h));
        Result r = LinearizabilityChecker.check(h);
        assertTrue(r.isViolation(), () -> r + "\n" + OracleCrossCheckTest.dump(h));
        assertFalse(BruteForceChecker.isLinearizable(h), "the brute-force oracle disagrees");
        assertTrue(r.explanation().contains("not linearizable"), r.explanation());
        return r;
    }

    private static History written(String value, String version) {
        return new History().invoke("c0", Op.write("k", value), 0).okWritten("c0", version, 1);
    }

    @Test
    void staleReadAfterACompletedWrite() {
        History h = written("a", "v1")
                .invoke("c1", Op.write("k", "b"), 2).okWritten("c1", "v2", 3)
                .invoke("c2", Op.read("k"), 4).okFound("c2", "a", "v1", 5);
        Result r = assertViolation(h);
        assertEquals(4, r.keys().get(0).blocking().invoke());
    }

    @Test
    void twoCasWithTheSameExpectedVersionBothSucceed() {
        History h = written("a", "v1")
                .invoke("c1", Op.cas("k", "v1", "b"), 2)
                .invoke("c2", Op.cas("k", "v1", "c"), 2)
                .okWritten("c1", "v2", 5)
                .okWritten("c2", "v3", 6);
        assertViolation(h);
    }

    @Test
    void readOfAValueNeverWritten() {
        History h = written("a", "v1")
                .invoke("c1", Op.read("k"), 2).okFound("c1", "ghost", "v666", 3);
        Result r = assertViolation(h);
        assertTrue(r.explanation().contains("v666"), r.explanation());
    }

    @Test
    void readOfAKnownVersionWithAnotherValue() {
        History h = written("a", "v1")
                .invoke("c1", Op.read("k"), 2).okFound("c1", "b", "v1", 3);
        assertViolation(h);
    }

    @Test
    void laterReadReturnsAnOlderValue() {
        History h = written("a", "v1")
                .invoke("w", Op.write("k", "b"), 2)
                .invoke("r1", Op.read("k"), 3).okFound("r1", "b", "v2", 4)
                .invoke("r2", Op.read("k"), 5).okFound("r2", "a", "v1", 6)   // after r1, before w answers
                .okWritten("w", "v2", 10);
        assertViolation(h);
    }

    @Test
    void acknowledgedDeleteThenLaterReadStillSeesTheValue() {
        History h = written("a", "v1")
                .invoke("c1", Op.delete("k"), 2).okDeleted("c1", 3)
                .invoke("c2", Op.read("k"), 4).okFound("c2", "a", "v1", 5);
        assertViolation(h);
    }

    @Test
    void lostAcknowledgedWrite() {
        History h = written("a", "v1")
                .invoke("c1", Op.write("k", "b"), 2).okWritten("c1", "v2", 3)
                .invoke("c2", Op.read("k"), 10).okFound("c2", "a", "v1", 11)
                .invoke("c2", Op.read("k"), 20).okFound("c2", "a", "v1", 21);
        assertViolation(h);
    }

    @Test
    void createIfAbsentTwiceBothSucceed() {
        History h = new History()
                .invoke("c1", Op.createIfAbsent("k", "a"), 0)
                .invoke("c2", Op.createIfAbsent("k", "b"), 0)
                .okWritten("c1", "v1", 5)
                .okWritten("c2", "v2", 5);
        assertViolation(h);
    }

    @Test
    void rejectedAlthoughThePreconditionHeld() {
        History h = written("a", "v1")
                .invoke("c1", Op.cas("k", "v1", "b"), 2).rejected("c1", Observed.unknown(), 3);
        assertViolation(h);
    }

    @Test
    void rejectionReportsAVersionTheKeyNeverHadThen() {
        History h = written("a", "v1")
                .invoke("c1", Op.write("k", "b"), 2).okWritten("c1", "v2", 3)
                .invoke("c2", Op.cas("k", "v9", "c"), 4).rejected("c2", Observed.version("v1"), 5);
        assertViolation(h);
    }

    @Test
    void deleteOfAnAbsentKeySucceeds() {
        History h = new History()
                .invoke("c1", Op.delete("k"), 0).okDeleted("c1", 1);
        assertViolation(h);
    }

    @Test
    void readSeesAbsentAfterAnAcknowledgedCreate() {
        History h = new History()
                .invoke("c1", Op.createIfAbsent("k", "a"), 0).okWritten("c1", "v1", 1)
                .invoke("c2", Op.read("k"), 2).okNotFound("c2", 3);
        assertViolation(h);
    }

    @Test
    void twoWritesReturnTheSameVersion() {
        History h = written("a", "v1")
                .invoke("c1", Op.write("k", "b"), 2).okWritten("c1", "v1", 3);
        Result r = assertViolation(h);
        assertTrue(r.explanation().contains("unique"), r.explanation());
    }

    @Test
    void oneBadKeyAmongGoodOnes() {
        History h = new History()
                .invoke("c1", Op.write("good", "a"), 0).okWritten("c1", "g1", 1)
                .invoke("c1", Op.write("bad", "a"), 2).okWritten("c1", "b1", 3)
                .invoke("c1", Op.delete("bad"), 4).okDeleted("c1", 5)
                .invoke("c2", Op.read("bad"), 6).okFound("c2", "a", "b1", 7)
                .invoke("c2", Op.read("good"), 8).okFound("c2", "a", "g1", 9);
        Result r = assertViolation(h);
        assertTrue(r.explanation().contains("key \"bad\""), r.explanation());
        assertEquals(Result.Verdict.VIOLATION, r.keys().get(0).verdict());     // "bad"
        assertEquals(Result.Verdict.LINEARIZABLE, r.keys().get(1).verdict());  // "good"
    }
}
