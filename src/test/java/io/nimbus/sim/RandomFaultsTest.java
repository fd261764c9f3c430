package io.nimbus.sim;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

/**
 * Many seeds, each a small cluster under random faults (loss, delay, duplicates, partitions,
 * crash-restarts, leaves), see {@link ChaosScenario}: safety is checked after every event, and after
 * healing the cluster must converge. Default 100 seeds (about a second); {@code -Dsim.seeds=200} for a longer run,
 * {@code -Dsim.seed=S} (with {@code -Dsim.narrate=true}) to replay one.
 */
class RandomFaultsTest {
    static final long FIRST_SEED = 1000;

    @TestFactory
    Stream<DynamicTest> chaosThenHealConverges() {
        return SimSeeds.seeds(FIRST_SEED, 100).mapToObj(seed -> DynamicTest.dynamicTest("seed " + seed, () -> {
            ChaosScenario c = ChaosScenario.start(seed).chaos().heal();
            if (c.roundsToConverge() < 0) {
                throw c.sim.failure("no convergence within " + ChaosScenario.HEAL_ROUNDS_MAX
                        + " rounds after healing: " + Views.divergence(c.sim));
            }
        }));
    }
}
