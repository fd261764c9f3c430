package io.nimbus.sim.cluster;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replays one seed: {@code -Dsim.seed=S [-Dsim.variant=CORRECT] [-Dsim.verbose=true]} (skipped without
 * {@code sim.seed}). Fails if the run finds a violation, printing it.
 */
class ClusterSimReplayTest {
    @Test
    void replay() {
        String seed = System.getProperty("sim.seed");
        Assumptions.assumeTrue(seed != null && !seed.isBlank(), "set -Dsim.seed=S to replay a seed");
        Variant v = Variant.valueOf(System.getProperty("sim.variant", "CORRECT"));
        ClusterSim.Outcome o = ClusterSim.run(Long.parseLong(seed), v);
        System.out.println("seed " + o.seed() + " " + v + ": " + o.stats() + " trace " + Long.toHexString(o.traceHash())
                + " (" + o.traceEntries() + " entries, " + o.wallMs() + " ms)");
        o.violations().forEach((c, m) -> System.out.println(c + ": " + m));
        assertTrue(o.ok(), () -> "violations " + o.violations().keySet() + "; replay: " + o.replay());
    }
}
