package io.nimbus.core.coordinator;

import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.paxos.Quorum;
import io.nimbus.core.topology.Placement;
import io.nimbus.core.topology.Replica;
import io.nimbus.core.topology.Topology;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a request goes, from the topology this node holds and which replicas gossip says are down:
 * the replicas (ring order), the reachable ones to ask (this node's own first) and the quorum each
 * phase needs. Computed from the topology alone, so every node holding the same epoch routes a key
 * the same way (the replication factor is the cluster's, never capped by one node's gossip view).
 */
public final class Routing {
    private Routing() {
    }

    /** A route, or why there is none. */
    public sealed interface Routed {
    }

    /**
     * @param replicas  the key's replicas at {@code epoch}: the natural ones in ring order, then the pending ones
     * @param asked     the reachable ones, this node's own first
     * @param localOnly the key's only replica is this worker: one durable step, no Paxos
     * @param pending   the names of the replicas a topology operation is adding: they receive every write but
     *                  hold nothing until streamed, so a read at ONE never asks them
     * @param leaving   the names of the natural replicas the operation takes the key from: a write at ONE that
     *                  only they confirmed may be on no replica once it finishes
     */
    public record Route(long epoch, List<Replica> replicas, List<Replica> asked, Quorum quorum, boolean localOnly,
                        List<String> pending, List<String> leaving)
            implements Routed {
        public Route {
            replicas = List.copyOf(replicas);
            asked = List.copyOf(asked);
            pending = List.copyOf(pending);
            leaving = List.copyOf(leaving);
        }

        /** A route no topology operation touches. */
        public Route(long epoch, List<Replica> replicas, List<Replica> asked, Quorum quorum, boolean localOnly) {
            this(epoch, replicas, asked, quorum, localOnly, List.of(), List.of());
        }

        public boolean isPending(String name) {
            return pending.contains(name);
        }

        public boolean isLeaving(String name) {
            return leaving.contains(name);
        }

        public List<String> askedNames() {
            return names(asked);
        }

        public Replica replica(String name) {
            for (Replica r : replicas) {
                if (r.name().equals(name)) {
                    return r;
                }
            }
            throw new IllegalArgumentException(name + " is not a replica of this route: " + names(replicas));
        }
    }

    public record Refused(Result result) implements Routed {
    }

    /**
     * A key's route. {@code self} is this worker's replica identity (null on a proxy); {@code down} the
     * names gossip considers unreachable (this node's own replica always counts as reachable).
     */
    public static Routed key(Topology t, Replica self, Set<String> down, long token, ConsistencyLevel level,
                             String notReadyWhy) {
        if (t == null) {
            return new Refused(new Result.NotReady(notReadyWhy));
        }
        Placement p = t.placement(token);
        Quorum q = p.quorum(level == ConsistencyLevel.ALL);
        // built only for a refusal: the request path routes every key
        java.util.function.Supplier<String> where = () -> "the key's replicas are " + p.names() + (p.moving()
                ? ", pending " + Placement.names(p.pending()) + " (" + t.operation().map(Object::toString).orElse("") + ")"
                : "") + " (replication factor " + t.effectiveRf() + " at topology epoch " + t.epoch() + ")";
        List<String> leaving = new ArrayList<>();
        for (Replica r : p.natural()) {
            if (!p.next().contains(r)) {
                leaving.add(r.name());
            }
        }
        return route(t.epoch(), p.replicas(), Placement.names(p.pending()), leaving, q, self, down, level, where);
    }

    /** The topology register's route: its electorate and the electorate's quorum (joint while it changes). */
    public static Routed register(Topology t, Replica self, Set<String> down) {
        return route(t.epoch(), t.electorate().members(), List.of(), List.of(), t.electorate().quorum(), self, down,
                ConsistencyLevel.QUORUM,
                () -> "the topology register's electorate at epoch " + t.epoch() + " is " + names(t.electorate().members()));
    }

    private static Routed route(long epoch, List<Replica> replicas, List<String> pending, List<String> leaving, Quorum q,
                                Replica self,
                                Set<String> down, ConsistencyLevel level, java.util.function.Supplier<String> where) {
        List<Replica> asked = new ArrayList<>(replicas.size());
        Set<String> up = new HashSet<>();
        for (Replica r : replicas) {
            if (r.equals(self)) {
                asked.add(0, r);
                up.add(r.name());
            } else if (!down.contains(r.name())) {
                asked.add(r);
                up.add(r.name());
            }
        }
        boolean naturalUp = false;
        for (String name : up) {
            naturalUp |= !pending.contains(name);
        }
        boolean enough = level == ConsistencyLevel.ONE ? naturalUp : q.satisfiableWith(up);
        if (!enough) {
            List<String> unreachable = new ArrayList<>();
            for (Replica r : replicas) {
                if (!up.contains(r.name())) {
                    unreachable.add(r.name());
                }
            }
            int needed = level == ConsistencyLevel.ONE ? 1 : level.required(replicas.size());
            return new Refused(new Result.NotEnoughReplicas(level, needed, up.size(), where.get() + ", unreachable: " + unreachable));
        }
        boolean localOnly = replicas.size() == 1 && replicas.get(0).equals(self);
        return new Route(epoch, replicas, asked, q, localOnly, pending, leaving);
    }

    static List<String> names(List<Replica> rs) {
        List<String> out = new ArrayList<>(rs.size());
        for (Replica r : rs) {
            out.add(r.name());
        }
        return out;
    }
}
