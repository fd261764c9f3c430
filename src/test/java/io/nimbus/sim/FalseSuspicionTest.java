package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings.Strategy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Once converged, a healthy cluster on a healthy network must stay converged: no node may see a live
 * peer as unreachable. The failure detector calls a peer unreachable when its heartbeat has not
 * advanced at this node for {@code failureTimeoutMs}; gossip refreshes a given heartbeat at a given
 * node only every few rounds (more with N, and more when states per message are capped), so the
 * timeout must exceed the tail of that gap.
 */
class FalseSuspicionTest {
    static final int N = 100;
    static final int WATCH_ROUNDS = 30;

    private static void staysConverged(Simulation sim) {
        Await.converged(sim, 30, "cold start");
        for (int round = 0; round < WATCH_ROUNDS; round++) {
            sim.runRounds(1);
            String d = Views.divergence(sim);
            if (d != null) {
                throw sim.failure("healthy cluster of " + sim.size() + " diverged " + (round + 1)
                        + " rounds after converging: " + d);
            }
        }
    }

        @ParameterizedTest
    @EnumSource(Strategy.class)
    void defaultFailureTimeoutDoesNotSuspectHealthyPeers(Strategy strategy) {
        staysConverged(new Simulation(SimConfig.of(SimSeeds.seedOr(1), N, strategy)));
    }

    /** The same cluster with a 10 s failure timeout stays converged (the tail of the gap is ~6 rounds). */
    @ParameterizedTest
    @EnumSource(Strategy.class)
    void tenSecondFailureTimeoutDoesNotSuspectHealthyPeers(Strategy strategy) {
        staysConverged(new Simulation(SimConfig.of(SimSeeds.seedOr(1), N, strategy).failureTimeoutMs(10_000)));
    }
}
