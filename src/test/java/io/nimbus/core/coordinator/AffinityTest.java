package io.nimbus.core.coordinator;

import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.paxos.Quorum;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Replica;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Key-affine coordination: who coordinates a key's write (docs/PAXOS.md "One coordinator per key"). */
class AffinityTest {
    private static final Replica A = replica("a"), B = replica("b"), C = replica("c"), D = replica("d");

    private static Replica replica(String name) {
        return new Replica(name, new HostId(new UUID(0, name.charAt(0))));
    }

    /** The key's replicas a, b, c in ring order (a owns the key's range). */
    private static Routing.Route abc() {
        List<Replica> rs = List.of(A, B, C);
        return new Routing.Route(1, rs, rs, Quorum.majority(List.of("a", "b", "c")), false);
    }

    @Test
    void theKeysFirstReplicaCoordinatesItsWrites() {
        assertEquals(A, Affinity.coordinator(abc(), B, Set.of(), ConsistencyLevel.QUORUM), "b forwards to a");
        assertEquals(A, Affinity.coordinator(abc(), C, Set.of(), ConsistencyLevel.ALL), "so does c, at ALL too");
        assertEquals(A, Affinity.coordinator(abc(), null, Set.of(), ConsistencyLevel.QUORUM), "and a proxy");
        assertNull(Affinity.coordinator(abc(), A, Set.of(), ConsistencyLevel.QUORUM), "a coordinates its own");
    }

    @Test
    void aReplicaThoughtDownIsPassedOverForTheNextInRingOrder() {
        assertEquals(B, Affinity.coordinator(abc(), C, Set.of("a"), ConsistencyLevel.QUORUM));
        assertNull(Affinity.coordinator(abc(), B, Set.of("a"), ConsistencyLevel.QUORUM), "b is next: it coordinates");
        assertEquals(C, Affinity.coordinator(abc(), null, Set.of("a", "b"), ConsistencyLevel.QUORUM));
    }

    @Test
    void whenEveryReplicaSeemsDownTheNodeCoordinatesItself() {
        assertNull(Affinity.coordinator(abc(), null, Set.of("a", "b", "c"), ConsistencyLevel.QUORUM),
                "nobody to forward to: the write is tried here (and refused by its route if too few answer)");
    }

    @Test
    void writesAtOneAndALoneReplicasWritesAreNeverForwarded() {
        assertNull(Affinity.coordinator(abc(), B, Set.of(), ConsistencyLevel.ONE), "any replica's answer does at ONE");
        Routing.Route alone = new Routing.Route(1, List.of(A), List.of(A), Quorum.majority(List.of("a")), true);
        assertNull(Affinity.coordinator(alone, A, Set.of(), ConsistencyLevel.QUORUM));
    }

    @Test
    void aPendingReplicaNeverCoordinates() {
        // d is being added (it may not hold the key yet) and sorts first; a is leaving
        List<Replica> rs = List.of(D, A, B, C);
        Routing.Route moving = new Routing.Route(5, rs, rs, new Quorum.Joint(Quorum.majority(List.of("a", "b", "c")),
                Quorum.majority(List.of("d", "a", "b"))), false, List.of("d"), List.of("c"));
        assertEquals(A, Affinity.coordinator(moving, B, Set.of(), ConsistencyLevel.QUORUM));
        assertEquals(A, Affinity.coordinator(moving, D, Set.of(), ConsistencyLevel.QUORUM), "d forwards too");
    }

    @Test
    void aLeavingReplicaCoordinatesOnlyWhenNoStayingOneIsUp() {
        // a is being decommissioned: the key moves from a, b, c to b, c, d
        List<Replica> rs = List.of(A, B, C, D);
        Routing.Route leaving = new Routing.Route(5, rs, rs, new Quorum.Joint(Quorum.majority(List.of("a", "b", "c")),
                Quorum.majority(List.of("b", "c", "d"))), false, List.of("d"), List.of("a"));
        assertEquals(B, Affinity.coordinator(leaving, C, Set.of(), ConsistencyLevel.QUORUM), "b stays: it coordinates");
        assertEquals(B, Affinity.coordinator(leaving, A, Set.of(), ConsistencyLevel.QUORUM),
                "a forwards to b rather than keep coordinating a key it is giving away");
        assertEquals(A, Affinity.coordinator(leaving, D, Set.of("b", "c"), ConsistencyLevel.QUORUM),
                "with b and c thought down, the leaving a is the one left");
    }
}
