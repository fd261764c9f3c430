package io.nimbus.core.topology;

import io.nimbus.core.kv.KeyState;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.paxos.PaxosMessage;

/**
 * A replica's whole decision on one Paxos request, fence included: what the store's writer thread runs
 * (and what the simulator runs at its simulated decision time). Every request is fenced by epoch,
 * commits too: a Paxos commit carries a chosen value (learning it anywhere would be harmless), but a
 * write at ONE is a commit of a value nobody chose, and a stale coordinator must not leave it on a
 * store that is no longer the key's replica. A fenced Paxos commit only costs its coordinator a
 * confirmation (the value is chosen on a quorum either way).
 */
public final class FencedAcceptor {
    private FencedAcceptor() {
    }

    /** The decision and whether the replica should fetch a newer topology ({@link Fence.Verdict#BEHIND}). */
    public record Decision(Acceptor.Transition<PaxosMessage> transition, Fence.Verdict verdict) {
    }

    /**
     * @param rangeChangedAt the epoch of the last placement change of the key's range in {@code mine}
     *                       (for the topology register: its electorate's last change); ignored when {@code mine} is null
     */
    public static Decision decide(Topology mine, HostId me, long rangeChangedAt, long requestEpoch, HostId target,
                                  PaxosMessage.Request request, KeyState current) {
        Fence.Verdict v = Fence.check(mine, rangeChangedAt, requestEpoch, target, me);
        long myEpoch = mine == null ? 0 : mine.epoch();
        if (v == Fence.Verdict.NOT_ME) {
            return new Decision(new Acceptor.Transition<>(current, new PaxosMessage.Fenced(myEpoch, true)), v);
        }
        if (v == Fence.Verdict.STALE) {
            return new Decision(new Acceptor.Transition<>(current, new PaxosMessage.Fenced(myEpoch, false)), v);
        }
        Acceptor.Transition<PaxosMessage> t;
        if (request instanceof PaxosMessage.Prepare p) {
            var x = Acceptor.prepare(current, p.ballot());
            t = new Acceptor.Transition<>(x.next(), x.reply());
        } else if (request instanceof PaxosMessage.Propose p) {
            var x = Acceptor.accept(current, p.proposal());
            t = new Acceptor.Transition<>(x.next(), x.reply());
        } else if (request instanceof PaxosMessage.Commit c) {
            t = new Acceptor.Transition<>(Acceptor.commit(current, c.proposal()), new PaxosMessage.Committed());
        } else {
            t = new Acceptor.Transition<>(current, new PaxosMessage.State(current));
        }
        return new Decision(t, v);
    }
}
