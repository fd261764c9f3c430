package io.nimbus.core.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rule: a ballot is admitted when its counter is at most the horizon ahead of the receiver's clock. */
class BallotHorizonTest {
    static final long NOW = 1_764_460_800_000_000L; // µs since the epoch, as ballot counters are
    static final BallotHorizon HOUR = BallotHorizon.ofMillis(3_600_000);

    @Test
    void aBallotUpToTheHorizonAheadIsClockSkewBeyondItIsRefused() {
        assertTrue(HOUR.admits(new Ballot(NOW, "n"), NOW));
        assertTrue(HOUR.admits(new Ballot(NOW + 3_600_000_000L, "n"), NOW));
        assertFalse(HOUR.admits(new Ballot(NOW + 3_600_000_001L, "n"), NOW));
        assertFalse(HOUR.admits(new Ballot(Long.MAX_VALUE, "n"), NOW));
    }

    @Test
    void ballotsBehindTheClockAreAlwaysAdmitted() {
        assertTrue(HOUR.admits(new Ballot(0, "n"), NOW));
        assertTrue(HOUR.admits(new Ballot(NOW - 1, "n"), NOW));
    }

    @Test
    void noOverflowAtTheEdgesOfTheClock() {
        BallotHorizon huge = new BallotHorizon(Long.MAX_VALUE);
        assertTrue(huge.admits(new Ballot(Long.MAX_VALUE, "n"), NOW));
        assertFalse(huge.admits(new Ballot(Long.MAX_VALUE, "n"), -5)); // Long.MAX_VALUE + 5 µs ahead
        assertFalse(HOUR.admits(new Ballot(Long.MAX_VALUE, "n"), Long.MIN_VALUE));
        assertFalse(HOUR.admits(new Ballot(Long.MAX_VALUE, "n"), Long.MAX_VALUE - 3_600_000_001L));
        assertTrue(HOUR.admits(new Ballot(Long.MAX_VALUE, "n"), Long.MAX_VALUE - 3_600_000_000L));
        assertThrows(IllegalArgumentException.class, () -> BallotHorizon.ofMillis(Long.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> BallotHorizon.ofMillis(-1));
    }

    @Test
    void everyBallotAMessageCarriesIsChecked() {
        Ballot ok = new Ballot(NOW, "n");
        Ballot far = new Ballot(Long.MAX_VALUE, "forger");
        Proposal good = new Proposal(ok, "v".getBytes());
        Proposal bad = new Proposal(far, "v".getBytes());
        assertNull(HOUR.refusal(new PaxosMessage.Promised(ok, good, good), NOW));
        assertNull(HOUR.refusal(new PaxosMessage.ReadCommitted("k"), NOW));
        assertNull(HOUR.refusal(new PaxosMessage.Committed(), NOW));
        for (PaxosMessage m : List.of(new PaxosMessage.Prepare("k", far), new PaxosMessage.Propose("k", bad),
                new PaxosMessage.Commit("k", bad), new PaxosMessage.Commit("k", good.reproposed(far)),
                new PaxosMessage.Promised(ok, bad, null), new PaxosMessage.Promised(ok, null, bad),
                new PaxosMessage.Accepted(far), new PaxosMessage.Rejected(far),
                new PaxosMessage.State(new KeyState(far, null, null)))) {
            String why = HOUR.refusal(m, NOW);
            assertNotNull(why, m.toString());
            assertTrue(why.contains("nimbus.paxos.ballot-ahead-max-ms"), why);
        }
        assertEquals(List.of(ok, ok), BallotHorizon.ballotsOf(new PaxosMessage.Commit("k", good)));
    }
}
