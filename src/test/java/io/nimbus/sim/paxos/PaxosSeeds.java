package io.nimbus.sim.paxos;

import java.util.stream.LongStream;

/**
 * Which seeds the Paxos simulation tests run, with the gossip simulator's conventions: {@code -Dsim.seed=S}
 * replays exactly that seed (the one a failure printed), {@code -Dsim.paxos.seeds=N} runs N seeds instead of
 * the sweep's default (a longer run), and {@code -Dsim.narrate=true} prints what a run does.
 */
final class PaxosSeeds {
    private PaxosSeeds() {
    }

    /** The replay seed, or null. */
    static Long replay() {
        String s = System.getProperty("sim.seed");
        return s == null || s.isBlank() ? null : Long.parseLong(s.trim());
    }

    /** The replay seed alone if given, else {@code sim.paxos.seeds} (default {@code dfltCount}) seeds from {@code first}. */
    static LongStream seeds(long first, int dfltCount) {
        Long replay = replay();
        if (replay != null) {
            return LongStream.of(replay);
        }
        return LongStream.range(first, first + Integer.getInteger("sim.paxos.seeds", dfltCount));
    }
}
