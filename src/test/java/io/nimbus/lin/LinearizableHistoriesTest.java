package io.nimbus.lin;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Histories that are linearizable must pass: the checker must not cry wolf. */
class LinearizableHistoriesTest {

    static void assertLinearizable(History h) {
        Result r = LinearizabilityChecker.check(h);
        assertTrue(r.isLinearizable(), () -> r + "\n" + OracleCrossCheckTest.dump(h));
        assertTrue(LinearizabilityChecker.check(h, LinearizabilityChecker.Limits.SEARCH_ONLY).isLinearizable());
        assertTrue(BruteForceChecker.isLinearizable(h), "the brute-force oracle disagrees");
    }

    @Test
    void emptyHistory() {
        assertLinearizable(new History());
    }

    @Test
    void sequentialOperationsOfEveryKind() {
        History h = new History()
                .invoke("c1", Op.read("k"), 0).okNotFound("c1", 1)
                .invoke("c1", Op.write("k", "a"), 2).okWritten("c1", "v1", 3)
                .invoke("c1", Op.read("k"), 4).okFound("c1", "a", "v1", 5)
                .invoke("c1", Op.cas("k", "v1", "b"), 6).okWritten("c1", "v2", 7)
                .invoke("c1", Op.cas("k", "v1", "c"), 8).rejected("c1", Observed.version("v2"), 9)
                .invoke("c1", Op.createIfAbsent("k", "d"), 10).rejected("c1", Observed.version("v2"), 11)
                .invoke("c1", Op.deleteIf("k", "v2"), 12).okDeleted("c1", 13)
                .invoke("c1", Op.delete("k"), 14).rejected("c1", Observed.absent(), 15)
                .invoke("c1", Op.read("k"), 16).okNotFound("c1", 17);
        assertLinearizable(h);
    }

    @Test
    void overlappingWritesMayBeReadInEitherOrder() {
        for (String winner : new String[] {"a", "b"}) {
            History h = new History()
                    .invoke("c1", Op.write("k", "a"), 0)
                    .invoke("c2", Op.write("k", "b"), 1)
                    .okWritten("c1", "va", 10)
                    .okWritten("c2", "vb", 11)
                    .invoke("c3", Op.read("k"), 12).okFound("c3", winner, "v" + winner, 13)
                    .invoke("c3", Op.read("k"), 14).okFound("c3", winner, "v" + winner, 15);
            assertLinearizable(h);
        }
    }

    @Test
    void concurrentReadsMaySeeTheOverlappingWritesInDifferentOrders() {
        // Both reads overlap both writes, so each can sit anywhere among them.
        History h = new History()
                .invoke("w1", Op.write("k", "a"), 0)
                .invoke("w2", Op.write("k", "b"), 0)
                .invoke("r1", Op.read("k"), 0)
                .invoke("r2", Op.read("k"), 0)
                .okFound("r1", "a", "va", 5)
                .okFound("r2", "b", "vb", 5)
                .okWritten("w1", "va", 10)
                .okWritten("w2", "vb", 10);
        assertLinearizable(h);
    }

    @Test
    void casRaceHasOneWinnerAndTheLoserSeesTheWinnersVersion() {
        History h = new History()
                .invoke("c0", Op.write("k", "a"), 0).okWritten("c0", "v1", 1)
                .invoke("c1", Op.cas("k", "v1", "b"), 2)
                .invoke("c2", Op.cas("k", "v1", "c"), 2)
                .rejected("c1", Observed.version("v2"), 8)
                .okWritten("c2", "v2", 9)
                .invoke("c1", Op.read("k"), 10).okFound("c1", "c", "v2", 11);
        assertLinearizable(h);
    }

    @Test
    void readsDuringAnInFlightWriteSeeOldThenNew() {
        History h = new History()
                .invoke("c0", Op.write("k", "a"), 0).okWritten("c0", "v1", 1)
                .invoke("w", Op.write("k", "b"), 5)
                .invoke("r", Op.read("k"), 6).okFound("r", "a", "v1", 7)
                .invoke("r", Op.read("k"), 8).okFound("r", "b", "v2", 9)
                .invoke("r", Op.read("k"), 10).okFound("r", "b", "v2", 11)
                .okWritten("w", "v2", 20);
        assertLinearizable(h);
    }

    @Test
    void readsDuringAnInFlightWriteMaySeeOnlyTheOldValue() {
        History h = new History()
                .invoke("c0", Op.write("k", "a"), 0).okWritten("c0", "v1", 1)
                .invoke("w", Op.write("k", "b"), 5)
                .invoke("r", Op.read("k"), 6).okFound("r", "a", "v1", 7)
                .invoke("r", Op.read("k"), 8).okFound("r", "a", "v1", 9)
                .okWritten("w", "v2", 20);
        assertLinearizable(h);
    }

    @Test
    void deleteThenCreate() {
        History h = new History()
                .invoke("c1", Op.createIfAbsent("k", "a"), 0).okWritten("c1", "v1", 1)
                .invoke("c1", Op.delete("k"), 2).okDeleted("c1", 3)
                .invoke("c2", Op.read("k"), 4).okNotFound("c2", 5)
                .invoke("c2", Op.createIfAbsent("k", "b"), 6).okWritten("c2", "v2", 7)
                .invoke("c1", Op.read("k"), 8).okFound("c1", "b", "v2", 9);
        assertLinearizable(h);
    }

    @Test
    void deleteWithTombstoneVersion() {
        History h = new History()
                .invoke("c1", Op.write("k", "a"), 0).okWritten("c1", "v1", 1)
                .invoke("c1", Op.delete("k"), 2).ok("c1", new Output.Deleted("t2"), 3)
                .invoke("c1", Op.cas("k", "t2", "b"), 4).rejected("c1", Observed.absent(), 5)
                .invoke("c1", Op.read("k"), 6).okNotFound("c1", 7);
        assertLinearizable(h);
    }

    @Test
    void failedOperationsHadNoEffect() {
        History h = new History()
                .invoke("c1", Op.write("k", "a"), 0).okWritten("c1", "v1", 1)
                .invoke("c2", Op.write("k", "zzz"), 2).fail("c2", 3)
                .invoke("c2", Op.delete("k"), 4).fail("c2", 5)
                .invoke("c1", Op.read("k"), 6).okFound("c1", "a", "v1", 7);
        assertLinearizable(h);
    }

    @Test
    void keysAreIndependent() {
        // On one register this order would be impossible; on two keys it is fine.
        History h = new History()
                .invoke("c1", Op.write("x", "1"), 0).okWritten("c1", "x1", 1)
                .invoke("c2", Op.write("y", "1"), 0).okWritten("c2", "y1", 1)
                .invoke("c1", Op.read("y"), 2).okFound("c1", "1", "y1", 3)
                .invoke("c2", Op.read("x"), 2).okFound("c2", "1", "x1", 3);
        assertLinearizable(h);
    }

    @Test
    void equalTimesCountAsConcurrent() {
        // The write answers at 5 and the read starts at 5: they overlap, so the read may come first.
        History h = new History()
                .invoke("w", Op.write("k", "a"), 0).okWritten("w", "v1", 5)
                .invoke("r", Op.read("k"), 5).okNotFound("r", 6);
        assertLinearizable(h);
    }
}
