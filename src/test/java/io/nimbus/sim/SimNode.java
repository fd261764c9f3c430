package io.nimbus.sim;

import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.Gossiper;
import io.nimbus.core.gossip.NodeInfo;
import io.nimbus.core.gossip.NodeRole;
import io.nimbus.core.gossip.NodeStatus;

import java.util.List;
import java.util.SplittableRandom;

/**
 * One simulated process. What survives a crash: id, endpoint and generation (as if persisted).
 * Everything else (the {@link Gossiper}) is lost; a restart builds a new one with generation + 1.
 */
final class SimNode {
    final int index;
    final String id;
    final Endpoint endpoint;
    /** This node's own random stream; each incarnation's gossiper gets a child of it. */
    private final SplittableRandom source;
    /** Jitter of the round timer (the shell's randomness, separate from the core's). */
    final SplittableRandom timer;
    long generation;
    /** Bumped at every crash, so timers and replies of a dead incarnation are ignored. */
    int incarnation;
    boolean up;
    Gossiper gossiper;
    /** What this node announces about itself (the shell's copy, to check the core keeps it). */
    NodeInfo info;

    SimNode(int index, SplittableRandom source) {
        this.index = index;
        this.id = SimConfig.nodeId(index);
        this.endpoint = SimConfig.endpoint(index);
        this.source = source;
        this.timer = source.split();
    }

    NodeInfo initialInfo() {
        return new NodeInfo(endpoint, 8000 + index % 1000, NodeRole.WORKER, NodeStatus.JOINING, List.of((long) index));
    }

    SplittableRandom nextGossiperRandom() {
        return source.split();
    }

    NodeStatus status() {
        return info.status();
    }

    @Override
    public String toString() {
        return id + "(gen " + generation + (up ? "" : ", down") + ")";
    }
}
