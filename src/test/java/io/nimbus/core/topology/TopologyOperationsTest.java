package io.nimbus.core.topology;

import io.nimbus.core.paxos.Quorum;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static io.nimbus.core.topology.TopologyTest.grown;
import static io.nimbus.core.topology.TopologyTest.host;
import static io.nimbus.core.topology.TopologyTest.worker;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Topology operations as TOPOLOGY.md §5–6 describe them: START makes the new replicas pending (joint
 * quorums, range epochs stamped, old majorities retired), FINISH makes the new sets natural (new
 * majorities retired), abort goes back; one operation at a time; the electorate moves off a departing
 * worker in the same epochs.
 */
class TopologyOperationsTest {

    private static final int SAMPLES = 4000;

    @Test
    void aJoinIsPendingAtStartWithJointQuorumsAndNaturalAtFinish() {
        Topology three = grown(3, 3);
        Worker n4 = worker(three, 4);
        Topology start = three.startJoin(n4);
        assertEquals(three.epoch() + 1, start.epoch());
        assertEquals("JOINING", start.status("n4"));
        assertFalse(start.holds(n4.replica()), "a joiner is no member before FINISH");
        assertTrue(start.isJoining(n4.replica()));
        assertEquals(n4, start.worker("n4").orElseThrow(), "but its address is known, so requests reach it");
        Topology finish = start.finish();
        assertEquals("NORMAL", finish.status("n4"));
        assertTrue(finish.holds(n4.replica()));
        assertTrue(finish.operation().isEmpty());
        SplittableRandom r = new SplittableRandom(4);
        int moving = 0;
        for (int i = 0; i < SAMPLES; i++) {
            long token = r.nextLong();
            Placement before = three.placement(token);
            Placement during = start.placement(token);
            Placement after = finish.placement(token);
            assertEquals(before.natural(), during.natural(), "START does not change the natural replicas");
            assertEquals(new HashSet<>(after.natural()), new HashSet<>(during.next()), "FINISH makes next natural");
            if (during.moving()) {
                moving++;
                assertEquals(List.of(n4.replica()), during.pending(), "only the joiner is pending");
                assertEquals(start.epoch(), start.changedAt(token), "a moving range is fenced at START");
                assertEquals(finish.epoch(), finish.changedAt(token), "and again at FINISH");
                Quorum q = during.quorum(false);
                assertTrue(q instanceof Quorum.Joint, "joint while moving: " + q.describe());
                // the joiner alone never replaces an old vote: the two remaining old replicas form a quorum
                Set<String> remaining = new HashSet<>(during.names());
                remaining.retainAll(Placement.names(during.next()));
                assertTrue(q.satisfiedBy(remaining), "survives the joiner and the displaced replica both down");
                Set<String> withJoiner = new HashSet<>(Set.of("n4"));
                withJoiner.add(remaining.iterator().next());
                assertFalse(q.satisfiedBy(withJoiner), "one old replica and the joiner are not a majority of old");
                assertEquals(4, during.quorum(true).members().size(), "ALL: every natural and pending replica");
            } else {
                assertEquals(three.changedAt(token), start.changedAt(token));
                assertTrue(during.pending().isEmpty());
                assertTrue(during.quorum(false) instanceof Quorum.Majority);
            }
        }
        assertTrue(moving > 0 && moving < SAMPLES, "some ranges move, not all: " + moving);
    }

    @Test
    void startRetiresTheOldMajoritiesAndFinishTheNewOnes() {
        Topology three = grown(3, 3);
        Topology start = three.startJoin(worker(three, 4));
        assertEquals(List.of(List.of("n1", "n2", "n3")), start.retired().majorities());
        Topology finish = start.finish();
        assertFalse(finish.retired().majorities().isEmpty());
        for (List<String> set : finish.retired().majorities()) {
            assertTrue(set.contains("n4"), "FINISH retires the new sets, which hold the joiner: " + set);
            assertEquals(3, set.size());
        }
        // blocking every new majority blocks every joint quorum of START, so START requests cannot decide
        assertFalse(Barrier.passed(finish, Set.of("n1")));
        assertTrue(Barrier.passed(finish, Set.of("n1", "n2", "n3", "n4")));
    }

    @Test
    void oneOperationAtATime() {
        Topology three = grown(4, 3);
        Topology start = three.startJoin(worker(three, 5));
        TopologyChangeRefused e = assertThrows(TopologyChangeRefused.class, () -> start.startJoin(worker(three, 6)));
        assertTrue(e.getMessage().contains("one topology operation at a time"), e.getMessage());
        assertThrows(TopologyChangeRefused.class, () -> start.startLeave("n2", r -> true));
        assertThrows(TopologyChangeRefused.class, () -> start.startRemove("n2", "n1", r -> true));
        assertThrows(TopologyChangeRefused.class, () -> start.beginElectorateChange(start.worker("n4").orElseThrow().replica()));
        assertThrows(TopologyChangeRefused.class, () -> three.finish(), "nothing to finish");
        assertThrows(TopologyChangeRefused.class, () -> three.abort(), "nothing to abort");
    }

    @Test
    void anAbortedJoinGoesBackAndItsStoreCanNeverJoinAgain() {
        Topology three = grown(3, 3);
        Worker n4 = worker(three, 4);
        Topology start = three.startJoin(n4);
        Topology aborted = start.abort();
        assertTrue(aborted.operation().isEmpty());
        assertEquals(three.workers(), aborted.workers());
        assertEquals(List.of(n4.host()), aborted.departed());
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < SAMPLES; i++) {
            long token = r.nextLong();
            assertEquals(three.placement(token).natural(), aborted.placement(token).natural());
            assertEquals(start.placement(token).moving() ? aborted.epoch() : three.changedAt(token), aborted.changedAt(token),
                    "the aborted ranges are fenced again, the rest keep their epoch");
        }
        TopologyChangeRefused e = assertThrows(TopologyChangeRefused.class, () -> aborted.startJoin(n4));
        assertTrue(e.getMessage().contains("wiped"), e.getMessage());
        Worker wiped = new Worker("n4", host(44), n4.endpoint(), n4.httpPort(), n4.tokens());
        assertEquals("JOINING", aborted.startJoin(wiped).status("n4"), "a wiped store (new host id) may join");
    }

    @Test
    void aDecommissionMovesTheLeaversRangesToTheNextWorkersAndItDeparts() {
        Topology four = grown(4, 3);
        Worker n4 = four.worker("n4").orElseThrow();
        Topology start = four.startLeave("n4", r -> true);
        assertEquals("LEAVING", start.status("n4"));
        assertTrue(start.holds(n4.replica()), "a leaving worker is still a replica until FINISH");
        SplittableRandom r = new SplittableRandom(6);
        for (int i = 0; i < SAMPLES; i++) {
            Placement p = start.placement(r.nextLong());
            assertFalse(Placement.names(p.next()).contains("n4"));
            assertEquals(p.natural().contains(n4.replica()), p.moving(), "exactly the leaver's ranges move");
            assertEquals(p.moving() ? 1 : 0, p.pending().size());
        }
        Topology finish = start.finish();
        assertFalse(finish.worker("n4").isPresent());
        assertEquals(List.of(n4.host()), finish.departed());
        assertEquals(3, finish.workers().size());
        TopologyChangeRefused e = assertThrows(TopologyChangeRefused.class, () -> finish.startJoin(n4));
        assertTrue(e.getMessage().contains("left this cluster"), e.getMessage());
    }

    @Test
    void theElectorateMovesOffADepartingMemberInTheSameEpochs() {
        Topology four = grown(4, 3);
        Topology three = four.beginElectorateChange(four.electorateTarget(x -> true).orElseThrow()).finishElectorateChange();
        assertEquals(List.of("n1", "n2", "n3"), Placement.names(three.electorate().current()));
        Topology start = three.startLeave("n2", x -> true);
        assertTrue(start.electorate().isJoint());
        assertEquals(start.epoch(), start.electorateChangedAt(), "the register is fenced at START too");
        assertEquals(List.of("n1", "n3", "n4"), Placement.names(start.electorate().next()), "n4 takes n2's seat");
        Topology finish = start.finish();
        assertFalse(finish.electorate().isJoint());
        assertEquals(List.of("n1", "n3", "n4"), Placement.names(finish.electorate().current()));
        Topology aborted = start.abort();
        assertEquals(List.of("n1", "n2", "n3"), Placement.names(aborted.electorate().current()), "abort keeps the old seats");
        assertTrue(aborted.holds(three.worker("n2").orElseThrow().replica()));
    }

    @Test
    void aRemovalIsDrivenByAnotherWorkerAndTheLastWorkerCannotGo() {
        Topology two = grown(2, 3);
        assertThrows(TopologyChangeRefused.class, () -> two.startRemove("n2", "n2", r -> true), "not by itself");
        assertThrows(TopologyChangeRefused.class, () -> two.startRemove("n9", "n1", r -> true), "not a worker");
        Topology start = two.startRemove("n2", "n1", r -> true);
        assertEquals("REMOVING", start.status("n2"));
        Topology one = start.finish();
        assertEquals(1, one.workers().size());
        assertThrows(TopologyChangeRefused.class, () -> one.startLeave("n1", r -> true));
    }

    @Test
    void aShrinkBelowTheReplicationFactorHasNoPendingReplicaButAJointQuorum() {
        Topology three = grown(3, 3);
        Topology start = three.startRemove("n3", "n1", r -> true);
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 200; i++) {
            Placement p = start.placement(r.nextLong());
            assertTrue(p.pending().isEmpty());
            assertTrue(p.moving());
            assertTrue(p.quorum(false).satisfiedBy(Set.of("n1", "n2")), "n3 dead: n1 and n2 are enough");
            assertFalse(p.quorum(false).satisfiedBy(Set.of("n1", "n3")), "n2 is in every new quorum");
        }
    }
}
