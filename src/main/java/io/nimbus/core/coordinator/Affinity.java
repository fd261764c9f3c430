package io.nimbus.core.coordinator;

import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.topology.Replica;

import java.util.Set;

/**
 * Key-affine coordination (docs/PAXOS.md "One coordinator per key"): which node coordinates a write. A write at
 * QUORUM or ALL is coordinated by the key's first natural replica, in ring order, that this node does not
 * think down; a node that is not that replica forwards the write to it. One coordinator per key makes writes in
 * its term the common case (one durable round instead of two) and keeps rival ballots off a hot key: every
 * node holding the same topology epoch and the same view of who is down picks the same coordinator.
 *
 * <p>Which node coordinates is never a safety matter: any node may run Paxos on any key. A node whose view
 * differs only coordinates some writes itself, and those cost a prepare. What forwarding adds is a message
 * whose answer may be lost: a forwarded write that was sent and not answered has an unknown outcome, like a
 * write whose accept was sent and not answered.
 */
public final class Affinity {
    private Affinity() {
    }

    /**
     * The replica that should coordinate a write to the key of {@code route} at {@code level}, or null if this
     * node should: at ONE (any replica's answer will do), for a key whose only replica is this worker, when this
     * worker is the key's first natural replica it does not think down, or when every natural replica seems down.
     * Pending replicas (being added by a topology operation) never coordinate: they may not hold the key yet; nor
     * do leaving ones (the operation takes the key from them), unless no other natural replica is up.
     *
     * @param self this worker's replica identity (null on a proxy)
     * @param down the names this node's gossip thinks unreachable
     */
    public static Replica coordinator(Routing.Route route, Replica self, Set<String> down, ConsistencyLevel level) {
        if (level == ConsistencyLevel.ONE || route.localOnly()) {
            return null;
        }
        for (boolean leavingToo : new boolean[]{false, true}) {
            for (Replica r : route.replicas()) {
                if (route.isPending(r.name()) || !leavingToo && route.isLeaving(r.name())) {
                    continue;
                }
                if (r.equals(self)) {
                    return null;
                }
                if (!down.contains(r.name())) {
                    return r;
                }
            }
        }
        return null;
    }
}
