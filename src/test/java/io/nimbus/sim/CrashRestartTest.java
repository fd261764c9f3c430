package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings.Strategy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A node that crashes and restarts comes back with generation + 1 (the only thing it kept); every other
 * node ends up holding the new generation (the old state superseded) and sees it reachable. Both for
 * the seed node and another one, and both after a long outage (detected) and a quick bounce.
 */
class CrashRestartTest {
    static final int N = 20;

    static Stream<Arguments> cases() {
        return Stream.of(Strategy.values()).flatMap(s -> Stream.of(
                Arguments.of(s, 0, 30), Arguments.of(s, 7, 30), Arguments.of(s, 7, 1), Arguments.of(s, 0, 1)));
    }

    @ParameterizedTest(name = "{0} node {1} down {2} rounds")
    @MethodSource("cases")
    void restartedNodeIsKnownAtItsNewGeneration(Strategy strategy, int k, int downRounds) {
        Simulation sim = new Simulation(SimConfig.of(SimSeeds.seedOr(21), N, strategy));
        Await.converged(sim, 30, "cold start");
        long oldGen = sim.node(k).generation;
        sim.crash(k);
        sim.runRounds(downRounds);
        if (downRounds * sim.config.intervalMs > sim.node((k + 1) % N).gossiper.heartbeatTimeoutMs() + 8 * sim.config.intervalMs) {
            assertEquals(0, Views.reachableBy(sim, k), sim.where() + ": " + sim.node(k).id + " crashed long ago");
        }
        sim.restart(k);
        assertEquals(oldGen + 1, sim.node(k).gossiper.self().generation(), sim.where());
        long rounds = Await.converged(sim, 30, "convergence after restarting " + sim.node(k).id);
        assertEquals(N - 1, Views.holdingGeneration(sim, k, oldGen + 1), sim.where() + ": new generation held by all");
        assertEquals(N - 1, Views.reachableBy(sim, k), sim.where() + ": reachable for all");
        System.out.printf("crash-restart %s N=%d node %d down %d rounds: all hold generation %d after %d rounds%n",
                strategy, N, k, downRounds, oldGen + 1, rounds);
    }
}
