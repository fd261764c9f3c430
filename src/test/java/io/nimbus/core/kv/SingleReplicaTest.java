package io.nimbus.core.kv;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SingleReplicaTest {

    private static final Precondition NONE = Precondition.NONE;
    private static final Precondition ABSENT = new Precondition.Absent();
    private static final Precondition PRESENT = new Precondition.Present();

    private static Ballot b(long counter) {
        return new Ballot(counter, "n1");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Mutation put(String value, Precondition pre) {
        return new Mutation("k", bytes(value), pre);
    }

    private static Mutation delete(Precondition pre) {
        return new Mutation("k", null, pre);
    }

    private static Precondition.VersionIn ifMatch(Ballot... versions) {
        return new Precondition.VersionIn(List.of(versions));
    }

    /** A key with a live value "old" committed at ballot {@code counter}. */
    private static KeyState live(long counter) {
        Proposal p = new Proposal(b(counter), bytes("old"));
        return new KeyState(b(counter), p, p);
    }

    /** A key deleted at ballot {@code counter}. */
    private static KeyState tombstoned(long counter) {
        Proposal t = Proposal.tombstone(b(counter));
        return new KeyState(b(counter), t, t);
    }

    private static WriteOutcome.Applied applied(WriteOutcome outcome) {
        return assertInstanceOf(WriteOutcome.Applied.class, outcome);
    }

    private static void assertCommitted(WriteOutcome.Applied a, Ballot ballot, byte[] value) {
        assertEquals(ballot, a.version());
        assertEquals(ballot, a.next().promised(), "promise moves to the new ballot");
        assertEquals(ballot, a.next().committed().ballot());
        assertEquals(a.next().committed(), a.next().accepted(), "accepted == committed after a single-replica write");
        if (value == null) {
            assertTrue(a.next().committed().isTombstone());
        } else {
            assertArrayEquals(value, a.next().committed().value());
        }
    }

    // ---- plain writes ----

    @Test
    void writeToEmptyKey() {
        WriteOutcome.Applied a = applied(SingleReplica.apply(KeyState.EMPTY, put("v1", NONE), b(10)));
        assertCommitted(a, b(10), bytes("v1"));
        assertTrue(a.next().exists());
        assertEquals(b(10), a.next().liveVersion());
    }

    @Test
    void overwriteReplacesValueAndVersion() {
        WriteOutcome.Applied a = applied(SingleReplica.apply(live(10), put("v2", NONE), b(11)));
        assertCommitted(a, b(11), bytes("v2"));
    }

    @Test
    void writeAfterDeleteRecreatesKey() {
        WriteOutcome.Applied a = applied(SingleReplica.apply(tombstoned(10), put("back", NONE), b(11)));
        assertCommitted(a, b(11), bytes("back"));
        assertTrue(a.next().exists());
    }

    @Test
    void emptyValueIsAWriteNotADelete() {
        WriteOutcome.Applied a = applied(SingleReplica.apply(live(10), new Mutation("k", new byte[0], NONE), b(11)));
        assertCommitted(a, b(11), new byte[0]);
        assertTrue(a.next().exists());
    }

    // ---- compare-and-set (If-Match with versions) ----

    @Test
    void casWithMatchingVersionApplies() {
        WriteOutcome.Applied a = applied(SingleReplica.apply(live(10), put("v2", ifMatch(b(10))), b(11)));
        assertCommitted(a, b(11), bytes("v2"));
    }

    @Test
    void casMatchesAnyVersionInTheList() {
        applied(SingleReplica.apply(live(10), put("v2", ifMatch(b(3), b(10), b(99))), b(11)));
    }

    @Test
    void casWithStaleVersionFailsAndReportsCurrentVersion() {
        WriteOutcome out = SingleReplica.apply(live(10), put("v2", ifMatch(b(9))), b(11));
        WriteOutcome.PreconditionFailed f = assertInstanceOf(WriteOutcome.PreconditionFailed.class, out);
        assertEquals(b(10), f.current());
    }

    @Test
    void casWithSameCounterButOtherNodeFails() {
        WriteOutcome out = SingleReplica.apply(live(10), put("v2", ifMatch(new Ballot(10, "n2"))), b(11));
        assertEquals(new WriteOutcome.PreconditionFailed(b(10)), out);
    }

    @Test
    void casWithEmptyVersionListFails() {
        WriteOutcome out = SingleReplica.apply(live(10), put("v2", ifMatch()), b(11));
        assertEquals(new WriteOutcome.PreconditionFailed(b(10)), out);
    }

    @Test
    void casOnEmptyKeyFailsWithNullCurrent() {
        WriteOutcome out = SingleReplica.apply(KeyState.EMPTY, put("v", ifMatch(b(1))), b(11));
        WriteOutcome.PreconditionFailed f = assertInstanceOf(WriteOutcome.PreconditionFailed.class, out);
        assertNull(f.current());
    }

    @Test
    void ifMatchTombstoneVersionOnDeletedKeyFails() {
        // The tombstone has a ballot, but it is not a live version: If-Match must not match it.
        WriteOutcome out = SingleReplica.apply(tombstoned(10), put("v", ifMatch(b(10))), b(11));
        WriteOutcome.PreconditionFailed f = assertInstanceOf(WriteOutcome.PreconditionFailed.class, out);
        assertNull(f.current());
    }

    // ---- If-Match: * ----

    @Test
    void ifMatchAnyOnLiveKeyApplies() {
        assertCommitted(applied(SingleReplica.apply(live(10), put("v2", PRESENT), b(11))), b(11), bytes("v2"));
    }

    @Test
    void ifMatchAnyOnAbsentOrDeletedKeyFails() {
        assertEquals(new WriteOutcome.PreconditionFailed(null), SingleReplica.apply(KeyState.EMPTY, put("v", PRESENT), b(11)));
        assertEquals(new WriteOutcome.PreconditionFailed(null), SingleReplica.apply(tombstoned(10), put("v", PRESENT), b(11)));
    }

    // ---- If-None-Match: * ----

    @Test
    void ifNoneMatchOnAbsentKeyApplies() {
        assertCommitted(applied(SingleReplica.apply(KeyState.EMPTY, put("v", ABSENT), b(11))), b(11), bytes("v"));
    }

    @Test
    void ifNoneMatchOnExistingKeyFailsWithCurrentVersion() {
        WriteOutcome out = SingleReplica.apply(live(10), put("v", ABSENT), b(11));
        assertEquals(new WriteOutcome.PreconditionFailed(b(10)), out);
    }

    @Test
    void ifNoneMatchOnDeletedKeyAppliesBecauseTombstoneCountsAsAbsent() {
        WriteOutcome.Applied a = applied(SingleReplica.apply(tombstoned(10), put("v", ABSENT), b(11)));
        assertCommitted(a, b(11), bytes("v"));
    }

    @Test
    void ifNoneMatchOnPromisedButNeverCommittedKeyApplies() {
        KeyState promisedOnly = new KeyState(b(10), null, null);
        assertCommitted(applied(SingleReplica.apply(promisedOnly, put("v", ABSENT), b(11))), b(11), bytes("v"));
    }

    // ---- deletes ----

    @Test
    void deleteOfExistingKeyWritesTombstoneWithNewVersion() {
        WriteOutcome.Applied a = applied(SingleReplica.apply(live(10), delete(NONE), b(11)));
        assertCommitted(a, b(11), null);
        assertEquals(b(11), a.version(), "a tombstone carries its own version");
        assertTrue(a.next().committed().isTombstone());
        assertNull(a.next().liveVersion());
        assertFalse(a.next().exists());
    }

    @Test
    void conditionalDeleteWithMatchingVersion() {
        assertCommitted(applied(SingleReplica.apply(live(10), delete(ifMatch(b(10))), b(11))), b(11), null);
    }

    @Test
    void conditionalDeleteWithStaleVersionFails() {
        assertEquals(new WriteOutcome.PreconditionFailed(b(10)), SingleReplica.apply(live(10), delete(ifMatch(b(8))), b(11)));
    }

    @Test
    void deleteOfAbsentKeyIsNotFound() {
        assertInstanceOf(WriteOutcome.NotFound.class, SingleReplica.apply(KeyState.EMPTY, delete(NONE), b(11)));
    }

    @Test
    void deleteOfTombstonedKeyIsNotFound() {
        assertInstanceOf(WriteOutcome.NotFound.class, SingleReplica.apply(tombstoned(10), delete(NONE), b(11)));
    }

    @Test
    void deleteOfAbsentKeyWithIfNoneMatchIsNotFound() {
        // the precondition holds, but there is still nothing to delete
        assertInstanceOf(WriteOutcome.NotFound.class, SingleReplica.apply(KeyState.EMPTY, delete(ABSENT), b(11)));
    }

    @Test
    void deleteOfAbsentKeyWithIfMatchIsPreconditionFailed() {
        // precondition is evaluated first
        assertEquals(new WriteOutcome.PreconditionFailed(null), SingleReplica.apply(KeyState.EMPTY, delete(PRESENT), b(11)));
    }

    // ---- ballot must be above the promise ----

    @Test
    void ballotEqualToPromiseThrows() {
        assertThrows(IllegalStateException.class, () -> SingleReplica.apply(live(10), put("v", NONE), b(10)));
    }

    @Test
    void ballotBelowPromiseThrows() {
        assertThrows(IllegalStateException.class, () -> SingleReplica.apply(live(10), put("v", NONE), b(9)));
        KeyState promisedOnly = new KeyState(b(50), null, null);
        assertThrows(IllegalStateException.class, () -> SingleReplica.apply(promisedOnly, put("v", NONE), b(49)));
        // same counter, lower node id
        assertThrows(IllegalStateException.class,
                () -> SingleReplica.apply(new KeyState(new Ballot(10, "m"), null, null), put("v", NONE), new Ballot(10, "a")));
    }

    @Test
    void staleBallotThrowsEvenWhenThePreconditionWouldFailOrDeleteWouldBeNotFound() {
        assertThrows(IllegalStateException.class, () -> SingleReplica.apply(live(10), put("v", ABSENT), b(5)));
        assertThrows(IllegalStateException.class, () -> SingleReplica.apply(tombstoned(10), delete(NONE), b(5)));
    }

    @Test
    void ballotAbovePromiseBySameCounterHigherNodeIsAccepted() {
        KeyState s = new KeyState(new Ballot(10, "a"), null, null);
        applied(SingleReplica.apply(s, put("v", NONE), new Ballot(10, "b")));
    }

    @Test
    void aBallotNotAboveTheCommittedVersionIsRefusedEvenWithoutAPromise() {
        KeyState committedOnly = new KeyState(null, null, new Proposal(b(10), bytes("v")));
        assertThrows(IllegalStateException.class, () -> SingleReplica.apply(committedOnly, put("w", NONE), b(9)));
        assertThrows(IllegalStateException.class, () -> SingleReplica.apply(committedOnly, put("w", NONE), b(10)));
        assertInstanceOf(WriteOutcome.Applied.class, SingleReplica.apply(committedOnly, put("w", NONE), b(11)));
    }

    @Test
    void anAcceptedButUncommittedProposalIsChosenForALoneReplica() {
        // A coordinator elsewhere got its proposal accepted by this, the key's only replica, then died.
        Proposal inFlight = new Proposal(b(20), bytes("in-flight"));
        KeyState s = new KeyState(b(20), inFlight, new Proposal(b(10), bytes("old")));
        assertEquals(inFlight, SingleReplica.settled(s).committed(), "a quorum of one accepted it: it is chosen");
        assertEquals(new WriteOutcome.PreconditionFailed(b(20)),
                SingleReplica.apply(s, put("x", new Precondition.VersionIn(List.of(b(10)))), b(21)),
                "a compare-and-set is judged against the chosen proposal, not the stale commit");
        assertSame(s.committed(), SingleReplica.settled(new KeyState(b(20), s.committed(), s.committed())).committed());
    }

    /**
     * A write in a term shares its ballot with the write before it: a lone replica left holding it accepted (its
     * coordinator gone before the commit) must count it as chosen, as it would a write under a higher ballot, or a
     * read returns the write before and the next write overwrites an acknowledged one.
     */
    @Test
    void anAcceptedWriteInATermIsSettledOverTheCommitUnderTheSameBallot() {
        Ballot term = b(10);
        Proposal first = Proposal.inTerm(term, b(11), bytes("v1"));
        Proposal second = Proposal.inTerm(term, b(12), bytes("v2"));
        KeyState s = new KeyState(term, second, first);
        assertEquals(second, SingleReplica.settled(s).committed());
        WriteOutcome refused = SingleReplica.apply(s, put("x", ifMatch(b(11))), b(20));
        assertInstanceOf(WriteOutcome.PreconditionFailed.class, refused, "v1 is not current: v2 is");
        assertInstanceOf(WriteOutcome.Applied.class, SingleReplica.apply(s, put("x", ifMatch(b(12))), b(20)));
    }
}
