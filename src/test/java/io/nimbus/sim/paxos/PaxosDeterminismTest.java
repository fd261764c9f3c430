package io.nimbus.sim.paxos;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** A run is a pure function of its seed (and variant): same seed, same trace and history; another seed, another run. */
class PaxosDeterminismTest {

    private static void assertSameRun(SeedResult a, SeedResult b) {
        String what = "seed=" + a.seed() + " " + a.variant() + ": ";
        assertEquals(a.traceHash(), b.traceHash(), what + "trace hash differs between two runs");
        assertEquals(a.traceEntries(), b.traceEntries(), what + "trace length differs");
        assertEquals(a.history(), b.history(), what + "client history differs");
        assertEquals(a.stats().toString(), b.stats().toString(), what + "statistics differ");
        assertEquals(a.all(), b.all(), what + "findings differ");
    }

    @Test
    void sameSeedGivesTheSameRun() {
        Long replay = PaxosSeeds.replay();
        for (long seed : replay != null ? new long[] {replay} : new long[] {4242, 7, 186}) {
            assertSameRun(PaxosSim.run(seed), PaxosSim.run(seed));
        }
    }

    @Test
    void sameSeedGivesTheSameRunForEachVariant() {
        long seed = PaxosSeeds.replay() != null ? PaxosSeeds.replay() : 171;
        for (Variant v : Variant.values()) {
            assertSameRun(PaxosSim.run(seed, v, Check.gate()), PaxosSim.run(seed, v, Check.gate()));
        }
    }

    @Test
    void differentSeedsGiveDifferentRuns() {
        long seed = PaxosSeeds.replay() != null ? PaxosSeeds.replay() : 4242;
        SeedResult a = PaxosSim.run(seed);
        SeedResult b = PaxosSim.run(seed + 1);
        assertNotEquals(a.traceHash(), b.traceHash(), "seeds " + seed + " and " + (seed + 1));
        assertNotEquals(a.history(), b.history(), "seeds " + seed + " and " + (seed + 1));
    }

    @Test
    void aVariantChangesNeitherTheClusterNorTheWorkloadDraws() {
        long seed = 99;
        assertEquals(PaxosSimConfig.forSeed(seed), PaxosSimConfig.forSeed(seed));
        // the variant only changes behaviour: a run of a broken variant starts exactly like the correct one
        SeedResult correct = PaxosSim.run(seed, Variant.CORRECT, Check.gate());
        SeedResult broken = PaxosSim.run(seed, Variant.PROPOSER_IGNORES_ACCEPTED, Check.gate());
        assertEquals(correct.config(), broken.config());
        assertNotEquals(correct.traceHash(), broken.traceHash(), "the broken proposer made no difference at all");
    }
}
