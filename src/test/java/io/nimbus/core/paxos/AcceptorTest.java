package io.nimbus.core.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The acceptor's rules, one by one (Lamport's P1a/P1b, plus commit learning). */
class AcceptorTest {
    static Ballot b(long c) {
        return new Ballot(c, "p");
    }

    static Proposal v(long c, String value) {
        return new Proposal(b(c), value.getBytes());
    }

    @Test
    void aPromiseIsGivenOnlyForAHigherBallotAndReportsWhatWasAccepted() {
        KeyState s = new KeyState(b(5), v(4, "x"), v(3, "w"));
        Acceptor.Transition<PaxosMessage.PrepareReply> t = Acceptor.prepare(s, b(6));
        PaxosMessage.Promised p = assertInstanceOf(PaxosMessage.Promised.class, t.reply());
        assertEquals(b(6), p.ballot());
        assertEquals(v(4, "x"), p.accepted(), "the promise carries the accepted proposal");
        assertEquals(v(3, "w"), p.committed());
        assertEquals(b(6), t.next().promised());
        assertTrue(t.changed(s), "the new promise must be persisted");

        for (long lowerOrEqual : new long[]{5, 4, 1}) {
            Acceptor.Transition<PaxosMessage.PrepareReply> r = Acceptor.prepare(s, b(lowerOrEqual));
            assertEquals(new PaxosMessage.Rejected(b(5)), r.reply());
            assertSame(s, r.next());
            assertFalse(r.changed(s));
        }
    }

    @Test
    void aProposalIsAcceptedUnlessAHigherBallotWasPromised() {
        KeyState s = new KeyState(b(5), null, null);
        assertEquals(new PaxosMessage.Rejected(b(5)), Acceptor.accept(s, v(4, "old")).reply());
        Acceptor.Transition<PaxosMessage.AcceptReply> t = Acceptor.accept(s, v(5, "mine"));
        assertEquals(new PaxosMessage.Accepted(b(5)), t.reply());
        assertEquals(v(5, "mine"), t.next().accepted());
        Acceptor.Transition<PaxosMessage.AcceptReply> higher = Acceptor.accept(s, v(7, "later"));
        assertEquals(b(7), higher.next().promised(), "accepting raises the promise");
        assertEquals(new PaxosMessage.Accepted(b(7)), higher.reply());
        assertEquals(new PaxosMessage.Accepted(b(1)), Acceptor.accept(KeyState.EMPTY, v(1, "first")).reply());
    }

    @Test
    void commitsAreLearnedIfNewerAndAreIdempotent() {
        KeyState s = new KeyState(b(5), v(5, "a"), v(2, "old"));
        KeyState c = Acceptor.commit(s, v(5, "a"));
        assertEquals(v(5, "a"), c.committed());
        assertSame(c, Acceptor.commit(c, v(5, "a")), "the same commit twice changes nothing");
        assertSame(c, Acceptor.commit(c, v(3, "older")), "an older commit changes nothing");
        KeyState learned = Acceptor.commit(KeyState.EMPTY, v(9, "missed"));
        assertEquals(b(9), learned.promised(), "a replica that missed the rounds learns the commit and raises its promise");
        assertEquals(v(9, "missed"), learned.committed());
    }
}
