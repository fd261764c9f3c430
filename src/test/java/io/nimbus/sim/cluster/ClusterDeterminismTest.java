package io.nimbus.sim.cluster;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Same seed, same run (trace hash and length); different seeds, different runs. */
class ClusterDeterminismTest {
    @Test
    void sameSeedSameTrace() {
        for (long seed : new long[]{0, 7, 1234}) {
            ClusterSim.Outcome a = ClusterSim.run(seed, Variant.CORRECT);
            ClusterSim.Outcome b = ClusterSim.run(seed, Variant.CORRECT);
            assertTrue(a.traceEntries() > 300 && a.stats().ops >= 20, "a run that does little: " + a.traceEntries()
                    + " events, " + a.stats());
            assertEquals(a.traceHash(), b.traceHash(), "seed " + seed);
            assertEquals(a.traceEntries(), b.traceEntries(), "seed " + seed);
            assertEquals(a.stats().toString(), b.stats().toString(), "seed " + seed);
        }
    }

    @Test
    void differentSeedsDiffer() {
        Set<Long> hashes = new HashSet<>();
        for (long seed = 0; seed < 10; seed++) {
            hashes.add(ClusterSim.run(seed, Variant.CORRECT).traceHash());
        }
        assertEquals(10, hashes.size());
    }
}
