package io.nimbus.core.gossip;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GossiperTest {
    static final long JUMP = 1_000_000;
    /** Generations may be at most this far ahead of the receiver's clock (ms). */
    static final long AHEAD = 3_600_000;

    static GossipSettings settings(GossipSettings.Strategy strategy, Endpoint... seeds) {
        return new GossipSettings(1000, strategy, 5000, 3, 256, 4096, JUMP, AHEAD, 8000, List.of(seeds));
    }

    static Endpoint ep(int i) {
        return new Endpoint("10.0.0." + i, 7000);
    }

    static NodeInfo info(int i, NodeStatus status) {
        return new NodeInfo(ep(i), 8000 + i, NodeRole.WORKER, status, List.of());
    }

    static Gossiper node(int i, long generation, Endpoint... seeds) {
        return new Gossiper("n" + i, generation, info(i, NodeStatus.NORMAL), settings(GossipSettings.Strategy.RANDOM, seeds),
                new SplittableRandom(i));
    }

    static NodeState state(int i, long gen, long hb, long iv, NodeStatus status) {
        return new NodeState("n" + i, gen, hb, iv, info(i, status));
    }

    /** One full spread → ack → ack2 exchange from a to b. */
    static void exchange(Gossiper a, Gossiper b, long now) {
        GossipMessage.Ack ack = b.onSyn(new GossipMessage.Syn(a.selfId(), a.self().info().endpoint(),
                a.members(now).stream().map(m -> a.state(m.id()).digest()).toList()), now);
        GossipMessage.Ack2 ack2 = a.onAck(ack, now);
        if (ack2 != null) {
            b.onAck2(ack2, now);
        }
    }

    @Test
    void aHigherGenerationReplacesTheWholeEntryEvenWithLowerVersions() {
        Gossiper g = node(1, 1);
        assertEquals(Gossiper.MergeResult.NEW, g.merge(state(2, 5, 100, 90, NodeStatus.LEFT), 0));
        assertEquals(Gossiper.MergeResult.UPDATED, g.merge(state(2, 6, 1, 1, NodeStatus.JOINING), 0));
        NodeState s = g.state("n2");
        assertEquals(6, s.generation());
        assertEquals(1, s.heartbeat());
        assertEquals(NodeStatus.JOINING, s.info().status());
    }

    @Test
    void theSameGenerationTakesOnlyNewerParts() {
        Gossiper g = node(1, 1);
        g.merge(state(2, 5, 10, 4, NodeStatus.NORMAL), 0);
        // newer heartbeat, older info: heartbeat taken, info kept
        assertEquals(Gossiper.MergeResult.UPDATED, g.merge(state(2, 5, 12, 3, NodeStatus.JOINING), 0));
        assertEquals(12, g.state("n2").heartbeat());
        assertEquals(NodeStatus.NORMAL, g.state("n2").info().status());
        // newer info, older heartbeat: info taken, heartbeat kept
        assertEquals(Gossiper.MergeResult.UPDATED, g.merge(state(2, 5, 11, 13, NodeStatus.LEFT), 0));
        assertEquals(12, g.state("n2").heartbeat());
        assertEquals(NodeStatus.LEFT, g.state("n2").info().status());
        // nothing newer: ignored
        assertEquals(Gossiper.MergeResult.OLD, g.merge(state(2, 5, 12, 13, NodeStatus.NORMAL), 0));
        assertEquals(NodeStatus.LEFT, g.state("n2").info().status());
    }

    @Test
    void aLowerGenerationIsIgnored() {
        Gossiper g = node(1, 1);
        g.merge(state(2, 5, 1, 1, NodeStatus.LEFT), 0);
        assertEquals(Gossiper.MergeResult.OLD, g.merge(state(2, 4, 999, 999, NodeStatus.NORMAL), 0));
        assertEquals(NodeStatus.LEFT, g.state("n2").info().status());
    }

    @Test
    void anImplausiblyLargeGenerationJumpIsRefused() {
        Gossiper g = node(1, 1);
        g.merge(state(2, 5, 1, 1, NodeStatus.NORMAL), 0);
        assertEquals(Gossiper.MergeResult.IMPLAUSIBLE_GENERATION, g.merge(state(2, 5 + JUMP + 1, 1, 1, NodeStatus.LEFT), 0));
        assertEquals(5, g.state("n2").generation());
        assertEquals(Gossiper.MergeResult.UPDATED, g.merge(state(2, 5 + JUMP, 1, 1, NodeStatus.LEFT), 0));
    }

    @Test
    void aGenerationFurtherAheadOfTheReceiversClockThanTheHorizonIsRefused() {
        long now = 1_700_000_000_000L; // wall-clock ms, as generations are
        Gossiper g = node(1, now - 5);
        g.merge(state(2, now - 10, 1, 1, NodeStatus.NORMAL), now);
        // forged: LEFT under a generation 11 days ahead (within the relative jump limit of a year, the old only bound)
        long elevenDays = 11L * 24 * 3600 * 1000;
        Gossiper lenient = new Gossiper("n1", now - 5, info(1, NodeStatus.NORMAL), new GossipSettings(1000,
                GossipSettings.Strategy.RANDOM, 5000, 3, 256, 4096, 365L * 24 * 3600 * 1000, AHEAD, 8000, List.of()),
                new SplittableRandom(1));
        lenient.merge(state(2, now - 10, 1, 1, NodeStatus.NORMAL), now);
        assertEquals(Gossiper.MergeResult.IMPLAUSIBLE_GENERATION,
                lenient.merge(state(2, now + elevenDays, 1, 1, NodeStatus.LEFT), now));
        assertEquals(NodeStatus.NORMAL, lenient.state("n2").info().status());
        // the edge: exactly the horizon ahead is clock skew, one ms more is not
        assertEquals(Gossiper.MergeResult.IMPLAUSIBLE_GENERATION,
                lenient.merge(state(2, now + AHEAD + 1, 1, 1, NodeStatus.LEFT), now));
        assertEquals(Gossiper.MergeResult.UPDATED, lenient.merge(state(2, now + AHEAD, 1, 1, NodeStatus.NORMAL), now));
        // and the receiver's clock is what counts: an hour later the same generation is ordinary
        assertEquals(Gossiper.MergeResult.UPDATED,
                lenient.merge(state(2, now + AHEAD + 1, 1, 1, NodeStatus.NORMAL), now + 1));
        // a new node under a far-ahead generation is refused too (there is nothing to jump from)
        assertEquals(Gossiper.MergeResult.IMPLAUSIBLE_GENERATION,
                g.merge(state(3, now + elevenDays, 1, 1, NodeStatus.NORMAL), now));
        assertNull(g.state("n3"));
    }

    @Test
    void nothingOthersSayAboutThisNodeIsTaken() {
        Gossiper g = node(1, 10);
        assertEquals(Gossiper.MergeResult.SELF, g.merge(state(1, 9, 500, 500, NodeStatus.LEFT), 0));
        assertEquals(10, g.self().generation());
        assertEquals(NodeStatus.NORMAL, g.self().info().status());
    }

    @Test
    void aStateOfThisNodeThatOutranksItsOwnIsOverriddenWithAHigherGeneration() {
        Gossiper g = node(1, 10);
        // a forged LEFT under a higher generation: not taken, and this node moves above it
        assertEquals(Gossiper.MergeResult.SELF, g.merge(state(1, 11, 500, 500, NodeStatus.LEFT), 0));
        assertEquals(12, g.self().generation());
        assertEquals(NodeStatus.NORMAL, g.self().info().status());
        // a forged state under its own generation with a higher version: the same
        Gossiper h = node(1, 10);
        assertEquals(Gossiper.MergeResult.SELF, h.merge(state(1, 10, 500, 500, NodeStatus.LEFT), 0));
        assertEquals(11, h.self().generation());
        // so a peer that took the forgery takes the real state back on the next exchange
        Gossiper peer = node(2, 1);
        peer.merge(state(1, 11, 500, 500, NodeStatus.LEFT), 0);
        exchange(g, peer, 0);
        assertEquals(12, peer.state("n1").generation());
        assertEquals(NodeStatus.NORMAL, peer.state("n1").info().status());
        // its own older state, or the same one, changes nothing
        Gossiper k = node(1, 10);
        k.merge(k.self(), 0);
        assertEquals(10, k.self().generation());
    }

    @Test
    void spreadAckAck2BringsBothSidesUpToDate() {
        Gossiper a = node(1, 1);
        Gossiper b = node(2, 1);
        a.merge(state(3, 1, 7, 7, NodeStatus.NORMAL), 0);
        b.merge(state(4, 1, 9, 9, NodeStatus.NORMAL), 0);
        b.merge(state(3, 1, 2, 2, NodeStatus.JOINING), 0);
        exchange(a, b, 0);
        for (Gossiper g : List.of(a, b)) {
            assertNotNull(g.state("n1"));
            assertNotNull(g.state("n2"));
            assertEquals(7, g.state("n3").heartbeat());
            assertEquals(NodeStatus.NORMAL, g.state("n3").info().status());
            assertEquals(9, g.state("n4").heartbeat());
        }
    }

    @Test
    void aNewNodeCatchesUpFromItsSeedAndOnlyThenHasJoined() {
        Gossiper seed = node(1, 1);
        for (int i = 3; i < 10; i++) {
            seed.merge(state(i, 1, 1, 1, NodeStatus.NORMAL), 0);
        }
        Gossiper fresh = node(2, 1, ep(1));
        assertFalse(fresh.joined());
        List<Outbound> out = fresh.tick(0);
        Outbound toSeed = out.stream().filter(o -> o.endpoint().equals(ep(1))).findFirst().orElseThrow();
        assertNull(toSeed.peerId());
        GossipMessage.Ack ack = seed.onSyn(toSeed.syn(), 0);
        GossipMessage.Ack2 ack2 = fresh.onAck(ack, 0);
        assertTrue(fresh.joined());
        assertEquals(9, fresh.size(), "the seed's full knowledge came in one ack");
        assertNotNull(ack2);
        seed.onAck2(ack2, 0);
        assertNotNull(seed.state("n2"));
    }

    @Test
    void seedsAreRetriedWithBackoffWhileNoneAnswers() {
        Gossiper fresh = node(2, 1, ep(1), ep(3));
        long now = 0;
        List<Long> attempts = new java.util.ArrayList<>();
        for (int round = 0; round < 40; round++, now += 1000) {
            for (Outbound o : fresh.tick(now)) {
                if (o.peerId() == null) {
                    attempts.add(now);
                    fresh.onNoAnswer(null);
                }
            }
        }
        assertTrue(attempts.size() >= 5 && attempts.size() < 40, "attempts at " + attempts);
        long lastGap = attempts.get(attempts.size() - 1) - attempts.get(attempts.size() - 2);
        assertTrue(lastGap > 1000 && lastGap <= 8000, "backoff grows up to the cap: " + attempts);
        assertFalse(fresh.joined());
    }

    @Test
    void aPeerWhoseHeartbeatStopsBecomesUnreachableAndRecovers() {
        Gossiper g = node(1, 1);
        g.merge(state(2, 1, 1, 1, NodeStatus.NORMAL), 0);
        assertTrue(g.isReachable("n2", 5000));
        assertFalse(g.isReachable("n2", 5001));
        g.merge(state(2, 1, 2, 1, NodeStatus.NORMAL), 6000);
        assertTrue(g.isReachable("n2", 6000));
    }

    @Test
    void aPeerThatMissesAcksBecomesUnreachableUntilItAnswers() {
        Gossiper g = node(1, 1);
        Gossiper peer = node(2, 1);
        g.merge(peer.self(), 0);
        for (int i = 0; i < 3; i++) {
            g.onNoAnswer("n2");
        }
        assertFalse(g.isReachable("n2", 0), "heartbeat is fresh but 3 spreads went unanswered");
        exchange(g, peer, 100);
        assertTrue(g.isReachable("n2", 100));
    }

    @Test
    void unreachableAndLeftNodesAreHandledWhenChoosingPeers() {
        Gossiper g = new Gossiper("n1", 1, info(1, NodeStatus.NORMAL), settings(GossipSettings.Strategy.RANDOM),
                new SplittableRandom(7));
        g.merge(state(2, 1, 1, 1, NodeStatus.NORMAL), 0);
        g.merge(state(3, 1, 1, 1, NodeStatus.LEFT), 0);
        g.merge(state(4, 1, 1, 1, NodeStatus.NORMAL), 0);
        for (int i = 0; i < 3; i++) {
            g.onNoAnswer("n4");
        }
        Map<String, Integer> chosen = new HashMap<>();
        for (int round = 0; round < 400; round++) {
            for (Outbound o : g.tick(round)) {
                chosen.merge(o.peerId(), 1, Integer::sum);
            }
            g.merge(new NodeState("n2", 1, round + 2, 1, info(2, NodeStatus.NORMAL)), round);
        }
        assertTrue(chosen.get("n2") > 300, "the reachable peer is chosen every round: " + chosen);
        int probes = chosen.getOrDefault("n4", 0);
        assertTrue(probes > 50 && probes < 350, "the unreachable peer is probed now and then: " + chosen);
        int leftProbes = chosen.getOrDefault("n3", 0);
        assertTrue(leftProbes > 10 && leftProbes < probes / 2, "a LEFT node is probed, but rarely: " + chosen);
    }

    @Test
    void roundRobinVisitsEveryOtherNodeOncePerCycle() {
        Gossiper g = new Gossiper("n0", 1, info(0, NodeStatus.NORMAL), settings(GossipSettings.Strategy.ROUND_ROBIN),
                new SplittableRandom(3));
        for (int i = 1; i <= 6; i++) {
            g.merge(state(i, 1, 1, 1, i == 6 ? NodeStatus.LEFT : NodeStatus.NORMAL), 0);
        }
        List<String> order = new java.util.ArrayList<>();
        for (int round = 0; round < 10; round++) {
            for (Outbound o : g.tick(round)) {
                order.add(o.peerId());
            }
        }
        Set<String> first = new HashSet<>(order.subList(0, 5));
        Set<String> second = new HashSet<>(order.subList(5, 10));
        assertEquals(Set.of("n1", "n2", "n3", "n4", "n5"), first);
        assertEquals(first, second);
        assertFalse(order.subList(0, 5).equals(order.subList(5, 10)), "the queue is reshuffled: " + order);
    }

    @Test
    void everyTickAdvancesTheHeartbeatAndInfoChangesGetTheirOwnVersion() {
        Gossiper g = node(1, 1);
        long v0 = g.self().maxVersion();
        g.tick(0);
        assertEquals(v0 + 1, g.self().heartbeat());
        g.updateSelf(g.self().info().withStatus(NodeStatus.LEAVING));
        assertEquals(v0 + 2, g.self().infoVersion());
        g.tick(1);
        assertEquals(v0 + 3, g.self().maxVersion());
    }

    @Test
    void messagesAreBoundedBySettings() {
        Gossiper seed = new Gossiper("n0", 1, info(0, NodeStatus.NORMAL),
                new GossipSettings(1000, GossipSettings.Strategy.RANDOM, 5000, 3, 10, 20, JUMP, AHEAD, 8000, List.of()),
                new SplittableRandom(1));
        for (int i = 1; i < 100; i++) {
            seed.merge(state(i, 1, 1, 1, NodeStatus.NORMAL), 0);
        }
        List<Outbound> out = seed.tick(0);
        assertFalse(out.isEmpty());
        assertEquals(20, out.get(0).syn().digests().size());
        assertTrue(out.get(0).syn().digests().stream().anyMatch(d -> d.id().equals("n0")), "own digest always included");
        GossipMessage.Ack ack = seed.onSyn(new GossipMessage.Syn("x", ep(200), List.of()), 0);
        assertEquals(10, ack.states().size());
    }

    @Test
    void aNodeThatStartedAloneStaysJoinedWhenDiscoveryFindsAPeer() {
        Gossiper alone = node(1, 1);
        assertTrue(alone.joined());
        alone.addSeed(ep(2)); // multicast found someone who may never answer
        assertTrue(alone.joined(), "readiness must not drop because a peer was discovered");
        List<Outbound> out = alone.tick(0);
        assertTrue(out.stream().anyMatch(o -> o.endpoint().equals(ep(2)) && o.peerId() == null),
                "it still catches up from the discovered peer");
    }

    @Test
    void aSeedListingOnlyItselfIsJoinedAtOnce() {
        assertTrue(node(1, 1, ep(1)).joined());
        assertFalse(node(1, 1, ep(1), ep(2)).joined());
    }

    @Test
    void theHeartbeatTimeoutGrowsWithTheClusterSoLargeClustersDoNotSuspectHealthyPeers() {
        Gossiper g = node(0, 1);
        assertEquals(5000, g.heartbeatTimeoutMs(), "small cluster: the configured time-out");
        for (int i = 1; i < 100; i++) {
            g.merge(state(i, 1, 1, 1, NodeStatus.NORMAL), 0);
        }
        assertEquals(21_000, g.heartbeatTimeoutMs(), "100 nodes: 3 x ceil(log2 99) = 21 rounds");
        assertTrue(g.isReachable("n5", 20_000));
        assertFalse(g.isReachable("n5", 21_001));
    }

    @Test
    void aSpreadAloneDoesNotCountAsHavingJoined() {
        Gossiper fresh = node(2, 1, ep(1));
        Gossiper peer = node(3, 1);
        fresh.onSyn(new GossipMessage.Syn("n3", ep(3), List.of(peer.self().digest())), 0);
        assertFalse(fresh.joined(), "a syn teaches nothing; keep trying the seeds");
        GossipMessage.Ack ack = fresh.onSyn(new GossipMessage.Syn("n3", ep(3), List.of(peer.self().digest())), 0);
        GossipMessage.Ack2 ack2 = peer.onAck(ack, 0);
        fresh.onAck2(ack2, 0);
        assertTrue(fresh.joined(), "states arrived in the ack2");
        assertNotNull(fresh.state("n3"));
    }
}
