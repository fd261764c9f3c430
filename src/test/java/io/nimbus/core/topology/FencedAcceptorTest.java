package io.nimbus.core.topology;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.PaxosMessage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** What a replica decides: the fence first, then the acceptor rules; a refusal changes nothing. */
class FencedAcceptorTest {
    final Topology t = TopologyTest.grown(3, 3);
    final HostId me = TopologyTest.host(1);
    final Ballot b = new Ballot(1000, "c");
    final long changed = t.changedAt(0);

    @Test
    void aStalePrepareOrProposeIsRefusedWithTheReplicasEpoch() {
        var d = FencedAcceptor.decide(t, me, changed, changed - 1, me, new PaxosMessage.Prepare("k", b), KeyState.EMPTY);
        assertEquals(new PaxosMessage.Fenced(t.epoch(), false), d.transition().reply());
        assertSame(KeyState.EMPTY, d.transition().next());
        d = FencedAcceptor.decide(t, me, changed, changed - 1, me, new PaxosMessage.Propose("k", new Proposal(b, new byte[1])),
                KeyState.EMPTY);
        assertEquals(new PaxosMessage.Fenced(t.epoch(), false), d.transition().reply());
    }

    @Test
    void anotherHostIsRefusedEvenForACommit() {
        var d = FencedAcceptor.decide(t, me, changed, t.epoch(), TopologyTest.host(2),
                new PaxosMessage.Commit("k", new Proposal(b, new byte[1])), KeyState.EMPTY);
        assertEquals(new PaxosMessage.Fenced(t.epoch(), true), d.transition().reply());
        assertSame(KeyState.EMPTY, d.transition().next());
    }

    @Test
    void aStaleCommitIsRefusedTooAWriteAtOneIsACommitOfAValueNobodyChose() {
        Proposal p = new Proposal(b, new byte[1]);
        var d = FencedAcceptor.decide(t, me, changed, changed - 1, me, new PaxosMessage.Commit("k", p), KeyState.EMPTY);
        assertEquals(new PaxosMessage.Fenced(t.epoch(), false), d.transition().reply());
        assertSame(KeyState.EMPTY, d.transition().next());
        d = FencedAcceptor.decide(t, me, changed, changed, me, new PaxosMessage.Commit("k", p), KeyState.EMPTY);
        assertEquals(p, d.transition().next().committed(), "at the range's epoch it is learned");
    }

    @Test
    void aNewerRequestIsServedAndReportedBehind() {
        var d = FencedAcceptor.decide(t, me, changed, t.epoch() + 3, me, new PaxosMessage.Prepare("k", b), KeyState.EMPTY);
        assertEquals(Fence.Verdict.BEHIND, d.verdict());
        assertEquals(new PaxosMessage.Promised(b, null, null), d.transition().reply());
    }
}
