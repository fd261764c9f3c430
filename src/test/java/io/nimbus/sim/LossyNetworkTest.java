package io.nimbus.sim;

import io.nimbus.core.gossip.GossipSettings.Strategy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 50 nodes on a network losing 5% of messages, delaying 1..300 ms (reordering) and duplicating 2%.
 * Failure timeout 10 s: with the default 5 s, loss makes healthy peers look dead so often that the
 * cluster is all-reachable in only ~1% of rounds (see FalseSuspicionTest); with 10 s it converges
 * within ~8 rounds.
 */
class LossyNetworkTest {
    static final int N = 50;
    static final int ROUNDS_MAX = 40;

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void fiftyNodesConvergeDespiteLoss(Strategy strategy) {
        Simulation sim = new Simulation(SimConfig.of(SimSeeds.seedOr(41), N, strategy).faults(Faults.lossy(0.05))
                .failureTimeoutMs(10_000));
        long rounds = Await.converged(sim, ROUNDS_MAX, "convergence with 5% loss");
        System.out.printf("lossy %s N=%d: converged after %d rounds (%d of %d messages lost)%n", strategy, N, rounds,
                sim.network().lost, sim.network().sent);
    }
}
