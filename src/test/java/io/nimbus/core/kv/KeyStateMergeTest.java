package io.nimbus.core.kv;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link KeyState#merge}: what a replica learns from a streamed row (TOPOLOGY.md §2). Properties over
 * random states drawn from one history of proposals (one proposal per ballot, as Paxos guarantees), and
 * the cases that read like the rule.
 */
class KeyStateMergeTest {

    private static Ballot b(long counter, String node) {
        return new Ballot(counter, node);
    }

    private static Proposal p(long counter, String value) {
        return new Proposal(b(counter, "n1"), value == null ? null : value.getBytes());
    }

    @Test
    void theHigherCommittedAndAcceptedWinAndThePromiseCoversEverything() {
        KeyState a = new KeyState(b(9, "n1"), p(4, "a4"), p(3, "a3"));
        KeyState c = new KeyState(b(5, "n2"), p(5, "c5"), p(2, "c2"));
        KeyState m = KeyState.merge(a, c);
        assertEquals(p(3, "a3"), m.committed());
        assertEquals(p(5, "c5"), m.accepted());
        assertEquals(b(9, "n1"), m.promised());
    }

    @Test
    void thePromiseIsRaisedToWhatWasAcceptedOrCommittedElsewhere() {
        KeyState promiseOnly = new KeyState(b(2, "n1"), null, null);
        KeyState committedHigh = new KeyState(null, null, p(7, "v"));
        KeyState m = KeyState.merge(promiseOnly, committedHigh);
        assertEquals(p(7, "v").ballot(), m.promised(), "a row that committed ballot 7 has in effect promised 7");
        assertEquals(p(7, "v"), m.committed());
        assertNull(m.accepted());
    }

    @Test
    void aTombstoneIsAProposalLikeAnyOther() {
        KeyState live = new KeyState(b(3, "n1"), p(3, "v"), p(3, "v"));
        KeyState deleted = new KeyState(b(4, "n1"), p(4, null), p(4, null));
        KeyState m = KeyState.merge(live, deleted);
        assertTrue(m.committed().isTombstone(), "the newer delete wins over the older value");
        assertEquals(m, KeyState.merge(deleted, live));
    }

    @Test
    void anEmptyOrMissingSideChangesNothing() {
        KeyState a = new KeyState(b(9, "n1"), p(4, "a4"), p(3, "a3"));
        assertSame(a, KeyState.merge(a, KeyState.EMPTY));
        assertSame(a, KeyState.merge(KeyState.EMPTY, a));
        assertSame(a, KeyState.merge(null, a));
        assertEquals(KeyState.EMPTY, KeyState.merge(null, null));
    }

    @Test
    void twoDifferentProposalsUnderOneBallotAreCorruption() {
        KeyState x = new KeyState(null, null, p(5, "x"));
        KeyState y = new KeyState(null, null, p(5, "y"));
        assertThrows(KeyState.CorruptStateException.class, () -> KeyState.merge(x, y));
        KeyState ax = new KeyState(b(6, "n1"), p(5, "x"), null);
        KeyState ay = new KeyState(b(6, "n1"), p(5, "y"), null);
        assertThrows(KeyState.CorruptStateException.class, () -> KeyState.merge(ax, ay));
    }

    @Test
    void commutativeAssociativeIdempotentAndMonotone() {
        Random random = new Random(20261130);
        for (int run = 0; run < 200; run++) {
            // one history: ballot i carries exactly one proposal, as Paxos guarantees for the rows that meet
            List<Proposal> history = new ArrayList<>();
            for (int i = 1; i <= 8; i++) {
                history.add(new Proposal(b(i, "n" + (1 + random.nextInt(3))),
                        random.nextInt(5) == 0 ? null : ("v" + run + "-" + i).getBytes()));
            }
            for (int k = 0; k < 50; k++) {
                KeyState x = state(random, history), y = state(random, history), z = state(random, history);
                KeyState xy = KeyState.merge(x, y);
                assertEquals(xy, KeyState.merge(y, x), "commutative");
                assertEquals(KeyState.merge(xy, z), KeyState.merge(x, KeyState.merge(y, z)), "associative");
                assertEquals(x, KeyState.merge(x, x), "idempotent");
                assertEquals(xy, KeyState.merge(xy, x), "absorbs its inputs");
                assertAtLeast(xy, x);
                assertAtLeast(xy, y);
            }
        }
    }

    /** Every register of {@code m} is at or above the same register of {@code s}. */
    private static void assertAtLeast(KeyState m, KeyState s) {
        assertTrue(cmp(m.promised(), s.promised()) >= 0, "promise lowered");
        assertTrue(cmp(ballot(m.accepted()), ballot(s.accepted())) >= 0, "accepted lowered");
        assertTrue(cmp(ballot(m.committed()), ballot(s.committed())) >= 0, "committed lowered");
        assertTrue(cmp(m.promised(), ballot(s.accepted())) >= 0 && cmp(m.promised(), ballot(s.committed())) >= 0,
                "the promise covers what either side accepted or committed");
    }

    private static Ballot ballot(Proposal p) {
        return p == null ? null : p.ballot();
    }

    private static int cmp(Ballot x, Ballot y) {
        return x == null ? (y == null ? 0 : -1) : y == null ? 1 : x.compareTo(y);
    }

    /** A state a real acceptor could hold: accepted and committed drawn from the history, promise at or above both. */
    private static KeyState state(Random random, List<Proposal> history) {
        Proposal accepted = random.nextInt(3) == 0 ? null : history.get(random.nextInt(history.size()));
        Proposal committed = random.nextInt(3) == 0 ? null : history.get(random.nextInt(history.size()));
        Ballot floor = null;
        for (Proposal q : new Proposal[]{accepted, committed}) {
            if (q != null && (floor == null || q.ballot().compareTo(floor) > 0)) {
                floor = q.ballot();
            }
        }
        Ballot promised = floor;
        if (random.nextBoolean()) {
            Ballot above = b(1 + random.nextInt(10), "n" + (1 + random.nextInt(3)));
            if (floor == null || above.compareTo(floor) > 0) {
                promised = above;
            }
        }
        return new KeyState(promised, accepted, committed);
    }
}
