package io.nimbus.lin;

import org.junit.jupiter.api.Test;

import static io.nimbus.lin.LinearizableHistoriesTest.assertLinearizable;
import static io.nimbus.lin.ViolationsTest.assertViolation;

/**
 * Operations that timed out (504) may take effect at any time after their invoke, or never. Their version
 * is unknown; a version nobody acknowledged making is attributed to an in-doubt write of the same value.
 */
class IndeterminateOperationsTest {

    private static History base() {
        return new History().invoke("c0", Op.write("k", "a"), 0).okWritten("c0", "v1", 1);
    }

    @Test
    void inDoubtWriteThatLaterAppears() {
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c2", Op.read("k"), 10).okFound("c2", "b", "v9", 11)
                .invoke("c2", Op.read("k"), 12).okFound("c2", "b", "v9", 13);
        assertLinearizable(h);
    }

    @Test
    void inDoubtWriteThatNeverAppears() {
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c2", Op.read("k"), 10).okFound("c2", "a", "v1", 11)
                .invoke("c2", Op.read("k"), 100).okFound("c2", "a", "v1", 101);
        assertLinearizable(h);
    }

    @Test
    void inDoubtWriteMayTakeEffectLongAfterItsClientGaveUp() {
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c1", Op.write("k", "c"), 3).okWritten("c1", "v2", 4)   // the client moved on
                .invoke("c2", Op.read("k"), 10).okFound("c2", "c", "v2", 11)
                .invoke("c2", Op.read("k"), 50).okFound("c2", "b", "v3", 51);  // the old write lands late
        assertLinearizable(h);
    }

    @Test
    void stillRunningAtTheEndCountsAsInDoubt() {
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2)
                .invoke("c2", Op.read("k"), 10).okFound("c2", "b", "v9", 11);
        assertLinearizable(h);
    }

    @Test
    void inDoubtCasAndDelete() {
        History h = base()
                .invoke("c1", Op.cas("k", "v1", "b"), 2).indeterminate("c1")
                .invoke("c2", Op.read("k"), 5).okFound("c2", "b", "v7", 6)
                .invoke("c3", Op.deleteIf("k", "v7"), 7).indeterminate("c3")
                .invoke("c2", Op.read("k"), 9).okNotFound("c2", 10);
        assertLinearizable(h);
    }

    @Test
    void inDoubtWriteSeenThroughA412() {
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c2", Op.cas("k", "v1", "c"), 5).rejected("c2", Observed.version("v5"), 6)
                .invoke("c2", Op.cas("k", "v5", "c"), 7).okWritten("c2", "v6", 8)
                .invoke("c2", Op.read("k"), 9).okFound("c2", "c", "v6", 10);
        assertLinearizable(h);
    }

    @Test
    void chainOfInDoubtWritesSeenOnlyAtTheEnd() {
        // b@v5 is only ever reported by a 412; the in-doubt CAS on v5 made c@v6, which a read sees.
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c2", Op.createIfAbsent("k", "x"), 3).rejected("c2", Observed.version("v5"), 4)
                .invoke("c2", Op.cas("k", "v5", "c"), 5).indeterminate("c2")
                .invoke("c3", Op.read("k"), 20).okFound("c3", "c", "v6", 21);
        assertLinearizable(h);
    }

    @Test
    void aVersionOnlyA412ReportedCannotBeReadWithAnUnwrittenValue() {
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c2", Op.createIfAbsent("k", "x"), 3).rejected("c2", Observed.version("v5"), 4)
                .invoke("c3", Op.read("k"), 5).okFound("c3", "zzz", "v5", 6);
        assertViolation(h);
    }

    @Test
    void sameValueTwiceInDoubtIsAttributedEitherWay() {
        // Two in-doubt writes of "b": whichever made v8 and v9, only the order matters.
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c2", Op.write("k", "b"), 20).indeterminate("c2")
                .invoke("c3", Op.read("k"), 30).okFound("c3", "b", "v8", 31)
                .invoke("c3", Op.read("k"), 32).okFound("c3", "b", "v9", 33);
        assertLinearizable(h);
    }

    @Test
    void inDoubtReadsAreIgnored() {
        History h = base()
                .invoke("c1", Op.read("k"), 2).indeterminate("c1")
                .invoke("c2", Op.read("k"), 3).okFound("c2", "a", "v1", 4);
        assertLinearizable(h);
    }

    @Test
    void unseenVersionMustMatchTheInDoubtValue() {
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c2", Op.read("k"), 10).okFound("c2", "WRONG", "v9", 11);
        assertViolation(h);
    }

    @Test
    void unseenVersionCannotPrecedeItsWriter() {
        History h = base()
                .invoke("c2", Op.read("k"), 2).okFound("c2", "b", "v9", 3)
                .invoke("c1", Op.write("k", "b"), 4).indeterminate("c1");
        assertViolation(h);
    }

    @Test
    void oneInDoubtWriteMakesOneVersion() {
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c3", Op.read("k"), 30).okFound("c3", "b", "v8", 31)
                .invoke("c3", Op.read("k"), 32).okFound("c3", "b", "v9", 33);
        assertViolation(h);
    }

    @Test
    void inDoubtWriteTakesEffectAtMostOnce() {
        // a@v1, then the in-doubt b@v9, then c@v2, then b@v9 again: v9 cannot come back.
        History h = base()
                .invoke("c1", Op.write("k", "b"), 2).indeterminate("c1")
                .invoke("c2", Op.read("k"), 10).okFound("c2", "b", "v9", 11)
                .invoke("c2", Op.write("k", "c"), 12).okWritten("c2", "v2", 13)
                .invoke("c2", Op.read("k"), 14).okFound("c2", "b", "v9", 15);
        assertViolation(h);
    }
}
