package io.nimbus.core.topology;

import io.nimbus.core.gossip.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The topology value: bootstrap, joins, range epochs, the electorate's steps, the barrier condition and the fence. */
class TopologyTest {
    static final UUID CLUSTER = new UUID(1, 2);

    static HostId host(int i) {
        return new HostId(new UUID(100, i));
    }

    static Worker worker(Topology t, int i) {
        String name = "n" + i;
        List<Long> tokens = t == null ? List.of(-6_000_000_000_000_000_000L, 0L, 3_000_000_000_000_000_000L, 7_000_000_000_000_000_000L)
                : t.allocateTokens(name, 4, i * 7919L);
        return new Worker(name, host(i), new Endpoint("127.0.0.1", 9000 + i), 8000 + i, tokens);
    }

    /** A cluster grown to {@code n} workers by joins. */
    static Topology grown(int n, int rf) {
        Topology t = Topology.bootstrap(CLUSTER, rf, worker(null, 1));
        for (int i = 2; i <= n; i++) {
            t = join(t, worker(t, i));
        }
        return t;
    }

    /** A whole join: START (pending), then FINISH (streams are the shell's business). */
    static Topology join(Topology t, Worker w) {
        return t.startJoin(w).finish();
    }

    static Set<Replica> natural(Topology t, long token) {
        return new HashSet<>(t.placement(token).natural());
    }

    @Test
    void aFoundedClusterIsOneWorkerHoldingEveryKeyUnderTheClustersReplicationFactor() {
        Topology t = Topology.bootstrap(CLUSTER, 3, worker(null, 1));
        assertEquals(1, t.epoch());
        assertEquals(3, t.rf());
        assertEquals(1, t.effectiveRf(), "fewer workers than rf: every worker holds every key");
        assertEquals(List.of(worker(null, 1).replica()), t.electorate().current());
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 1000; i++) {
            long token = r.nextLong();
            assertEquals(List.of(worker(null, 1).replica()), t.placement(token).natural());
            assertEquals(1, t.changedAt(token));
        }
    }

    @Test
    void aJoinMovesOnlyTheRangesWhoseReplicaSetChangesAndStampsThemWithItsEpoch() {
        for (int rf : new int[] {1, 2, 3}) {
            Topology before = grown(3, rf);
            Topology after = join(before, worker(before, 4));
            assertEquals(before.epoch() + 2, after.epoch(), "START and FINISH");
            SplittableRandom r = new SplittableRandom(rf);
            int moved = 0;
            for (int i = 0; i < 5000; i++) {
                long token = r.nextLong();
                boolean changed = !natural(before, token).equals(natural(after, token));
                assertEquals(changed ? after.epoch() : before.changedAt(token), after.changedAt(token),
                        "rf " + rf + " token " + token);
                assertEquals(Math.min(rf, 4), after.placement(token).natural().size());
                moved += changed ? 1 : 0;
            }
            assertTrue(moved > 0 && moved < 5000, "rf " + rf + ": some ranges move, not all (" + moved + ")");
        }
    }

    @Test
    void growingToTheReplicationFactorChangesEveryRange() {
        Topology two = grown(2, 3);
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < 1000; i++) {
            long token = r.nextLong();
            assertEquals(3, two.changedAt(token), "1 -> 2 workers at rf 3: every key gains a replica (FINISH at epoch 3)");
            assertEquals(2, two.placement(token).natural().size());
        }
    }

    @Test
    void theSameEpochGivesTheSamePlacementEverywhere() {
        Topology a = grown(5, 3);
        Topology b = grown(5, 3);
        assertEquals(a, b, "the transformations are deterministic");
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 1000; i++) {
            long token = r.nextLong();
            assertEquals(a.placement(token), b.placement(token));
        }
    }

    @Test
    void aJoinIsRefusedForANameOrStoreAlreadyInTheTopology() {
        Topology t = grown(2, 3);
        assertThrows(TopologyChangeRefused.class, () -> t.startJoin(worker(t, 2)), "already a member");
        Worker sameNameOtherStore = new Worker("n2", host(99), new Endpoint("127.0.0.1", 9999), 1, List.of(42L));
        TopologyChangeRefused e = assertThrows(TopologyChangeRefused.class, () -> t.startJoin(sameNameOtherStore));
        assertTrue(e.getMessage().contains("belongs to host"), e.getMessage());
        Worker sameStoreOtherName = new Worker("n9", host(2), new Endpoint("127.0.0.1", 9999), 1, List.of(42L));
        assertThrows(TopologyChangeRefused.class, () -> t.startJoin(sameStoreOtherName));
    }

    @Test
    void theElectorateGrowsOneMemberAtATimeThroughAJointEpoch() {
        Topology t = grown(3, 3);
        Replica n2 = t.worker("n2").orElseThrow().replica();
        Replica n3 = t.worker("n3").orElseThrow().replica();
        assertEquals(n2, t.electorateCandidate().orElseThrow());
        Topology joint = t.beginElectorateChange(n2);
        assertTrue(joint.electorate().isJoint());
        assertEquals(joint.epoch(), joint.electorateChangedAt());
        assertEquals(t.changedAt(), joint.changedAt(), "data placements do not move");
        assertThrows(TopologyChangeRefused.class, () -> joint.beginElectorateChange(n3), "one change at a time");
        assertTrue(joint.electorateCandidate().isEmpty());
        Topology two = joint.finishElectorateChange();
        assertEquals(List.of(t.worker("n1").orElseThrow().replica(), n2), two.electorate().current());
        assertEquals(n3, two.electorateCandidate().orElseThrow());
        Topology three = two.beginElectorateChange(n3).finishElectorateChange();
        assertEquals(3, three.electorate().current().size());
        assertTrue(join(three, worker(three, 4)).electorateCandidate().isEmpty(), "it stops at " + Topology.ELECTORATE_SIZE);
        assertThrows(TopologyChangeRefused.class, three::finishElectorateChange);
    }

    @Test
    void theBarrierWaitsForABlockingSetOfEveryRetiredQuorumAndTheTopologyCarriesThem() {
        Topology three = grown(3, 3);
        Topology four = three.startJoin(worker(three, 4));
        assertEquals(List.of(List.of("n1", "n2", "n3")), four.retired().majorities(), "every old replica set was {n1,n2,n3}");
        assertFalse(Barrier.passed(four, Set.of()));
        assertFalse(Barrier.passed(four, Set.of("n4")), "the newcomer is in no old quorum");
        assertFalse(Barrier.passed(four, Set.of("n1")), "one of three old replicas does not block a majority");
        assertTrue(Barrier.passed(four, Set.of("n1", "n2")), "two of three do");
        assertTrue(Barrier.passed(three, four, Set.of("n1", "n2")));
        Topology joint = three.beginElectorateChange(three.electorateTarget(r -> true).orElseThrow());
        assertEquals(1, Barrier.retired(joint).size(), "only the register's quorum");
        assertTrue(Barrier.passed(joint, Set.of("n1")), "{n1} was the whole old electorate");
        assertFalse(Barrier.passed(joint, Set.of("n2", "n3")));
        Topology done = joint.finishElectorateChange();
        assertFalse(Barrier.passed(done, Set.of("n2")), "a joint quorum of {n1} and {n1,n2,n3} always holds n1");
        assertTrue(Barrier.passed(done, Set.of("n1")));
        assertTrue(Topology.bootstrap(CLUSTER, 3, worker(null, 1)).retired().isEmpty());
    }

    @Test
    void theElectorateJumpsFromTheFounderToThreeOnceThreeWorkersExistInOneJointStep() {
        assertTrue(grown(2, 3).electorateTarget(r -> true).isEmpty(), "two workers: the founder alone (no gain in a second)");
        Topology three = grown(3, 3);
        Replica n1 = three.worker("n1").orElseThrow().replica();
        Replica n2 = three.worker("n2").orElseThrow().replica();
        Replica n3 = three.worker("n3").orElseThrow().replica();
        assertEquals(List.of(n1, n2, n3), three.electorateTarget(r -> true).orElseThrow());
        assertTrue(three.electorateTarget(r -> !r.equals(n3)).isEmpty(), "only reachable workers are taken");
        Topology four = join(three, worker(three, 4));
        Topology five = join(four, worker(four, 5));
        assertEquals(3, five.electorateTarget(r -> !r.name().equals("n2")).orElseThrow().size());
        assertFalse(five.electorateTarget(r -> !r.name().equals("n2")).orElseThrow().contains(n2));
        Topology joint = three.beginElectorateChange(List.of(n1, n2, n3));
        // the joint quorum: n1 and two of three: survives the loss of n2 or n3 during the change
        assertTrue(joint.electorate().quorum().satisfiedBy(Set.of("n1", "n3")));
        assertFalse(joint.electorate().quorum().satisfiedBy(Set.of("n2", "n3")));
        assertEquals(List.of(n1, n2, n3), joint.finishElectorateChange().electorate().current());
        assertThrows(TopologyChangeRefused.class, () -> three.beginElectorateChange(List.of(n1)), "no change");
    }

    @Test
    void theFenceRefusesOlderThanTheRangesLastChangeAndOtherHosts() {
        Topology t = grown(4, 3);
        HostId me = host(2);
        long token = 12345;
        long changed = t.changedAt(token);
        assertEquals(Fence.Verdict.OK, Fence.check(t, changed, t.epoch(), me, me));
        assertEquals(Fence.Verdict.OK, Fence.check(t, changed, changed, me, me), "as old as the last change is fine");
        assertEquals(Fence.Verdict.STALE, Fence.check(t, changed, changed - 1, me, me));
        assertEquals(Fence.Verdict.BEHIND, Fence.check(t, changed, t.epoch() + 1, me, me));
        assertEquals(Fence.Verdict.NOT_ME, Fence.check(t, changed, t.epoch(), host(3), me));
        assertEquals(Fence.Verdict.NOT_ME, Fence.check(null, 0, 1, me, me), "no topology: not anybody's replica yet");
        assertNotEquals(Fence.Verdict.STALE, Fence.check(t, t.electorateChangedAt(), t.epoch(), me, me));
    }
}
