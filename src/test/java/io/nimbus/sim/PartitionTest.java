package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings.Strategy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A node cut off from everyone is marked unreachable by all others within the failure timeout plus a
 * few rounds (its last heartbeat still has to spread), and after healing everyone sees it reachable
 * again.
 */
class PartitionTest {
    static final int N = 20;
    /** Time for the last heartbeat to reach everyone, on top of the failure timeout. */
    static final int DETECT_EXTRA_ROUNDS = 10;
    /**
     * Healing can be slow: a peer that left {@code missedAcksMax} spreads unanswered stays unreachable
     * until it is heard from directly (a spread either way), which at one spread per round to a random
     * peer is a coupon-collector wait of about (N/2)·ln N rounds for the last pair.
     */
    static final int HEAL_ROUNDS_MAX = 120;

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void isolatedNodeIsUnreachableForAllThenReachableAfterHealing(Strategy strategy) {
        Simulation sim = new Simulation(SimConfig.of(SimSeeds.seedOr(11), N, strategy));
        Await.converged(sim, 30, "cold start");
        int k = 1 + sim.scenario().nextInt(N - 1);
        String id = sim.node(k).id;
        sim.network().isolate(k);
        sim.narrate("isolate " + sim.node(k));
        long detect = Await.until(sim, () -> Views.reachableBy(sim, k) == 0,
                sim.node(0).gossiper.heartbeatTimeoutMs() + DETECT_EXTRA_ROUNDS * sim.config.intervalMs, 100,
                "every node marking " + id + " unreachable",
                () -> Views.reachableBy(sim, k) + " still see " + id + " reachable");
        // ...and the isolated node itself sees nobody.
        Await.until(sim, () -> sim.view(k).stream().noneMatch(m -> !m.self() && m.reachable()),
                sim.node(0).gossiper.heartbeatTimeoutMs() + DETECT_EXTRA_ROUNDS * sim.config.intervalMs, 100,
                id + " marking everyone unreachable", () -> sim.view(k).toString());
        sim.runRounds(10);
        sim.network().heal();
        long healRounds = Await.converged(sim, HEAL_ROUNDS_MAX, "convergence after healing " + id);
        System.out.printf("partition %s N=%d: %s unreachable for all after %d ms, reachable again %d rounds after"
                + " healing%n", strategy, N, id, detect, healRounds);
    }
}
