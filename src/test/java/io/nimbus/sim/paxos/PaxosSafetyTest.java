package io.nimbus.sim.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.PaxosMessage;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-event checks report what they must, and nothing on a correct sequence of events. */
class PaxosSafetyTest {
    static final String K = "k";
    final PaxosSafety safety = new PaxosSafety(() -> "test");

    PaxosSafetyTest() {
        safety.key(K, 3);
    }

    static Proposal p(long ballot, String value) {
        return new Proposal(new Ballot(ballot, "n1"), value.getBytes());
    }

    void accepted(String replica, Proposal p) {
        safety.replied(replica, new PaxosMessage.Propose(K, p), new PaxosMessage.Accepted(p.ballot()));
    }

    @Test
    void aChainOfWritesAndAReproposalAreFine() {
        Proposal x = p(1, "x");
        safety.proposed(K, x, 10, null);
        accepted("a", x);
        accepted("b", x);
        Proposal y = p(2, "y");
        safety.proposed(K, y, 11, x);
        accepted("b", y);
        Proposal y3 = p(3, "y");
        safety.reproposed(K, y3, y);
        accepted("a", y3);
        accepted("c", y3);
        accepted("c", y); // the original is chosen too, after its re-proposal: same write
        safety.transition("a", K, KeyState.EMPTY, new KeyState(y3.ballot(), y3, y3));
        assertEquals(Map.of(), safety.violations());
        assertEquals(3, safety.chosenCount());
        assertEquals(1, safety.reversioned().size(), "write 11 was chosen as 2 and 3");
    }

    @Test
    void aChosenWriteLostIsAnAgreementViolation() {
        Proposal x = p(1, "x");
        safety.proposed(K, x, 10, null);
        accepted("a", x);
        accepted("b", x);
        Proposal y = p(2, "y");
        safety.proposed(K, y, 11, null); // decided on top of nothing, without x
        accepted("b", y);
        accepted("c", y);
        assertTrue(safety.violations().get(Check.AGREEMENT).contains("a chosen write was lost"), safety.violations().toString());
    }

    @Test
    void committingWhatWasNeverChosenOrAnotherValueIsAnAgreementViolation() {
        Proposal x = p(1, "x");
        safety.proposed(K, x, 10, null);
        accepted("a", x);
        safety.transition("a", K, new KeyState(x.ballot(), x, null), new KeyState(x.ballot(), x, x));
        assertTrue(safety.violations().get(Check.AGREEMENT).contains("never chosen"));
        safety.transition("b", K, KeyState.EMPTY, new KeyState(x.ballot(), p(1, "other"), null));
        assertEquals(2, safety.counts().get(Check.AGREEMENT), "another value under x's ballot");
    }

    @Test
    void registersGoingDownAreReported() {
        Proposal x = p(5, "x");
        safety.proposed(K, x, 10, null);
        safety.transition("a", K, new KeyState(x.ballot(), null, null), new KeyState(new Ballot(4, "n1"), null, null));
        assertTrue(safety.violations().containsKey(Check.REGISTERS));
    }

    @Test
    void anAcceptorRestartingWithoutWhatItAcknowledgedIsADurabilityViolation() {
        Ballot b7 = new Ballot(7, "n2");
        safety.replied("a", new PaxosMessage.Prepare(K, b7), new PaxosMessage.Promised(b7, null, null));
        safety.restarted("a", Map.of(K, new KeyState(new Ballot(7, "n2"), null, null)));
        assertEquals(Map.of(), safety.violations());
        safety.restarted("a", Map.of(K, new KeyState(new Ballot(6, "n2"), null, null)));
        assertTrue(safety.violations().get(Check.DURABILITY).contains("after promising"));
    }

    @Test
    void aRestartedAttemptOrAFailedOperationThatTakesEffectBreaksTheProposersPromise() {
        Proposal x = p(1, "x");
        safety.proposed(K, x, 10, null);
        safety.abandoned(K, x);
        accepted("a", x);
        assertTrue(safety.violations().get(Check.PROPOSER).contains("restarted"));

        Proposal y = p(2, "y");
        safety.proposed(K, y, 11, null);
        safety.failed(K, 11);
        accepted("b", y);
        accepted("c", y);
        assertEquals(2, safety.counts().get(Check.PROPOSER), safety.violations().toString());
    }
}
