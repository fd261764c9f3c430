package io.nimbus.sim.paxos;

import io.nimbus.lin.Result;

import java.util.List;
import java.util.Map;

/**
 * What one seed's run found.
 *
 * @param violations  the first violation of each enabled {@link Check} (empty: the seed passed)
 * @param all         the first violation of every check, enabled or not
 * @param counts      how many violations each check recorded
 * @param chosen      proposals chosen (accepted by a majority) over the run
 * @param reversioned writes whose value was chosen under more than one ballot (ghost notes)
 * @param linVerdict  the checker's verdict on the history with real versions (null if the run ended early)
 * @param byWriteVerdict the checker's verdict on the history with versions named by write
 * @param history     the client history, as text (for the determinism test)
 */
record SeedResult(PaxosSimConfig config, Variant variant, Map<Check, String> violations, Map<Check, String> all,
                  Map<Check, Integer> counts, PaxosSim.Stats stats, int chosen, List<String> reversioned,
                  Result.Verdict linVerdict, Result.Verdict byWriteVerdict, long traceHash, long traceEntries, String history, long wallMs) {

    long seed() {
        return config.seed();
    }

    boolean passed() {
        return violations.isEmpty();
    }

    /** A failure report: seed, shape, what was found, and how to replay it. */
    String report() {
        StringBuilder b = new StringBuilder();
        b.append(variant).append(' ').append(config).append('\n').append("  ").append(stats).append(" chosen=")
                .append(chosen).append(" wall=").append(wallMs).append("ms\n");
        all.forEach((check, message) -> b.append("  ").append(check).append(violations.containsKey(check) ? "" : " (not gated)")
                .append(" (").append(counts.get(check)).append("x): ").append(message).append('\n'));
        b.append("  replay: ").append(PaxosSim.REPLAY).append(seed()).append(" -Dsim.narrate=true");
        return b.toString();
    }
}
