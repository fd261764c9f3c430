package io.nimbus.sim.paxos;

import java.util.EnumSet;
import java.util.Set;

/** The families of checks a run makes; a seed fails when any enabled family reports a violation. */
public enum Check {
    /** Per acceptor, per key, within one incarnation: promise and committed ballot never decrease. */
    REGISTERS,
    /** After a restart an acceptor still holds every promise, accept and commit it acknowledged. */
    DURABILITY,
    /**
     * Agreement on the chain of chosen proposals: one value per ballot; a committed proposal was chosen;
     * of two chosen proposals the higher one was decided knowing the lower one (its base chain contains it).
     */
    AGREEMENT,
    /** The proposer's promises to the client: nothing of a restarted or failed attempt is ever chosen. */
    PROPOSER,
    /**
     * The clients' history, with each version named by the write that made it, is linearizable (the
     * {@code io.nimbus.lin} checker; UNKNOWN also fails): no write lost, applied twice or reordered, no stale
     * read or precondition verdict. A 412 whose "current" version is another ballot of the very write the
     * client named is counted as a version-stability failure and recorded as "failed, no effect" here.
     */
    LINEARIZABILITY_BY_WRITE,
    /** The clients' history with the real versions (ballots, the ETags) is linearizable. */
    LINEARIZABILITY,
    /**
     * A write's value was chosen under two versions (a re-proposal gave it a new one), so the strict
     * history fails while the history by write passes. Fixed (proposals keep their version); gated.
     */
    VERSION_STABILITY,
    /** After healing: every operation completes, every final read succeeds, the run ends within its bounds. */
    LIVENESS,
    /** After healing and the final reads: every replica of a key holds the same committed proposal. */
    CONVERGENCE,
    /** The core threw (a broken {@code KeyState}, a reply the proposer cannot accept) or the harness did. */
    EXCEPTION;

    /** What a seed must pass: everything. */
    static Set<Check> gate() {
        return EnumSet.allOf(Check.class);
    }
}
