package io.nimbus.sim;

import java.util.stream.LongStream;

/**
 * Which seeds the simulation tests run. {@code -Dsim.seed=S} replays exactly one seed in every test
 * (the seed printed by a failure); {@code -Dsim.seeds=N} makes the many-seeds test run N seeds
 * instead of its default (a longer run, e.g. {@code -Dsim.seeds=200}).
 */
final class SimSeeds {
    private SimSeeds() {
    }

    /** The replay seed if one was given, else {@code dflt}. */
    static long seedOr(long dflt) {
        String s = System.getProperty("sim.seed");
        return s == null || s.isBlank() ? dflt : Long.parseLong(s.trim());
    }

    /** The replay seed alone if given, else {@code sim.seeds} (default {@code dfltCount}) seeds from {@code first}. */
    static LongStream seeds(long first, int dfltCount) {
        String s = System.getProperty("sim.seed");
        if (s != null && !s.isBlank()) {
            return LongStream.of(Long.parseLong(s.trim()));
        }
        return LongStream.range(first, first + Integer.getInteger("sim.seeds", dfltCount));
    }
}
