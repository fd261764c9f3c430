package io.nimbus.sim;

import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.GossipMessage;
import io.nimbus.core.gossip.NodeInfo;
import io.nimbus.core.gossip.NodeStatus;
import io.nimbus.core.gossip.Outbound;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * What {@code ClusterService} does around the core, for every simulated node: a round every
 * {@code intervalMs} (± seeded jitter), after which JOINING becomes NORMAL once joined; each spread is a
 * request (SYN) whose answer (ACK) must come back within {@code requestTimeoutMs} or the core hears
 * {@code onNoAnswer}; a non-null ACK2 goes to the same endpoint. Late or duplicate answers are ignored,
 * as a request/response transport would. The safety checker runs after every core call.
 */
final class SimShell {
    private record Request(long id, int initiator, int incarnation, String peerId, int target, Endpoint endpoint) {
    }

    private final Simulation sim;
    private final EventQueue queue;
    private final SimNetwork network;
    private final Trace trace;
    private final SafetyChecker checker;
    private final Map<Long, Request> pending = new HashMap<>();
    private final List<BiConsumer<SimNode, Outbound>> outboundWatchers = new ArrayList<>();
    private long nextRequest;

    SimShell(Simulation sim, EventQueue queue, SimNetwork network, Trace trace, SafetyChecker checker) {
        this.sim = sim;
        this.queue = queue;
        this.network = network;
        this.trace = trace;
        this.checker = checker;
    }

    void watchOutbound(BiConsumer<SimNode, Outbound> watcher) {
        outboundWatchers.add(watcher);
    }

    /** The node (just started) runs its first round after {@code delayMs}, then every interval. */
    void startRounds(SimNode n, long delayMs) {
        int inc = n.incarnation;
        queue.at(sim.now() + delayMs, () -> tick(n, inc));
    }

    /** The node's shell changes what it announces (its core's {@code updateSelf}). */
    void announce(SimNode n, NodeInfo info) {
        n.info = info;
        n.gossiper.updateSelf(info);
        trace.add("announce", n.index, info.status().ordinal(), n.gossiper.self().infoVersion());
        checker.announced(n.index);
        checker.afterEvent(n.index, List.of());
    }

    private void tick(SimNode n, int inc) {
        if (!n.up || n.incarnation != inc) {
            return;
        }
        List<Outbound> out = n.gossiper.tick(sim.now());
        trace.add("tick", n.index, n.gossiper.self().heartbeat(), out.size());
        checker.afterEvent(n.index, List.of());
        if (n.gossiper.joined() && n.info.status() == NodeStatus.JOINING) {
            announce(n, n.info.withStatus(NodeStatus.NORMAL));
        }
        for (Outbound o : out) {
            for (BiConsumer<SimNode, Outbound> w : outboundWatchers) {
                w.accept(n, o);
            }
            spread(n, o);
        }
        long jitter = sim.config.tickJitterMs == 0 ? 0 : n.timer.nextLong(-sim.config.tickJitterMs, sim.config.tickJitterMs + 1);
        queue.at(sim.now() + sim.config.intervalMs + jitter, () -> tick(n, inc));
    }

    private void spread(SimNode from, Outbound o) {
        int target = network.resolve(o.endpoint());
        Request r = new Request(nextRequest++, from.index, from.incarnation, o.peerId(), target, o.endpoint());
        pending.put(r.id(), r);
        queue.at(sim.now() + sim.config.requestTimeoutMs, () -> timeout(r));
        if (target < 0) {
            trace.add("no-route", from.index, r.id());
            return;
        }
        network.send(from.index, target, SimNetwork.SYN, Trace.of(o.syn()), () -> onSyn(r, o.syn()));
    }

    private void onSyn(Request r, GossipMessage.Syn syn) {
        SimNode to = sim.node(r.target());
        if (!to.up) {
            trace.add("drop-down", r.target(), SimNetwork.SYN);
            return;
        }
        GossipMessage.Ack ack = to.gossiper.onSyn(syn, sim.now());
        trace.add("on-syn", to.index, r.id(), ack.states().size(), ack.requests().size());
        checker.afterEvent(to.index, List.of());
        network.send(to.index, r.initiator(), SimNetwork.ACK, Trace.of(ack), () -> onAck(r, ack));
    }

    private void onAck(Request r, GossipMessage.Ack ack) {
        SimNode n = sim.node(r.initiator());
        if (!n.up || n.incarnation != r.incarnation() || pending.remove(r.id()) == null) {
            trace.add("stale-ack", r.initiator(), r.id());
            return;
        }
        GossipMessage.Ack2 ack2 = n.gossiper.onAck(ack, sim.now());
        trace.add("on-ack", n.index, r.id(), ack2 == null ? -1 : ack2.states().size());
        checker.afterEvent(n.index, ack.states());
        if (ack2 != null) {
            network.send(n.index, r.target(), SimNetwork.ACK2, Trace.of(ack2), () -> onAck2(r, ack2));
        }
    }

    private void onAck2(Request r, GossipMessage.Ack2 ack2) {
        SimNode to = sim.node(r.target());
        if (!to.up) {
            trace.add("drop-down", r.target(), SimNetwork.ACK2);
            return;
        }
        to.gossiper.onAck2(ack2, sim.now());
        trace.add("on-ack2", to.index, r.id());
        checker.afterEvent(to.index, ack2.states());
    }

    private void timeout(Request r) {
        if (pending.remove(r.id()) == null) {
            return;
        }
        SimNode n = sim.node(r.initiator());
        if (!n.up || n.incarnation != r.incarnation()) {
            return;
        }
        n.gossiper.onNoAnswer(r.peerId());
        trace.add("no-answer", n.index, r.id());
        checker.afterEvent(n.index, List.of());
    }
}
