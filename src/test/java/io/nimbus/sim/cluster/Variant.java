package io.nimbus.sim.cluster;

/**
 * What the simulated cluster runs: the real policy ({@link #CORRECT}) or one deliberately broken
 * behaviour the checks must catch. A variant changes behaviour only; the scenario a seed draws (cluster
 * size, start times, crash and partition schedule, client choices) is drawn the same way for all.
 */
public enum Variant {
    CORRECT,
    /** The old bug: a coordinator routes with rf = min(rf, workers its gossip currently knows alive, itself included). */
    RF_CAPPED_BY_LOCAL_VIEW,
    /** Replicas skip the epoch fence (a wrong host id is still refused). */
    NO_FENCE,
    /** The fence is decided on arrival against the topology held then; the transition later, on the writer. */
    FENCE_OUTSIDE_WRITER,
    /** A topology change does not wait for its barrier: the next change may follow at once. */
    NO_BARRIER,
    /**
     * The topology shell in main as it is, without the two changes {@link #CORRECT} makes to it:
     * <ol>
     *   <li>a change waits for its own barrier, but a change by another driver that read its epoch does not
     *       run that barrier first (TopologyService.transform), so when the driver of epoch e did not see its
     *       compare-and-set succeed (outcome unknown, or it crashed) nobody runs e's barrier and e+1 can be
     *       committed before it passed (caught by the barrier invariant); {@link #CORRECT} runs the barrier of
     *       the epoch it read before its own compare-and-set ({@code ClusterSim.Node#barrierBefore});</li>
     *   <li>the electorate candidacy is judged on the held topology while the transformation is applied to
     *       the register's newer value, so a stale candidate adds itself as a fourth member (caught by the
     *       electorate invariant); {@link #CORRECT} re-judges it on the register's value.</li>
     * </ol>
     */
    SHELL_AS_IS,
    // (TopologyService has had both fixes since 6942933; this variant keeps the shell as it was at a0937e4)
    /** A topology operation's driver commits FINISH right after START's barrier: nothing is streamed (the step-4 join). */
    NO_STREAM,
    /** Each receiver copies its ranges from one arbitrary old replica of them only (CASSANDRA-2434), not by the source rule. */
    STREAM_FROM_ANY_ONE_REPLICA,
    /** While a key moves, coordinators take a majority of its new replica set alone for a QUORUM (pending counted as natural). */
    COUNT_PENDING_AS_NATURAL,
    /** Streamed rows carry the committed value only: the accepted proposal and the promise are dropped. */
    STREAM_COMMITTED_ONLY,
    /**
     * Cleanup does not wait for an epoch without an operation, nor for the request-epoch guard: under START a
     * worker deletes the rows of ranges it will not replicate once the operation ends (while it is still their
     * natural replica, or a source), and at any epoch it deletes rows although a request of a newer epoch, in
     * which it is pending, reached it.
     */
    EARLY_CLEANUP,
    /** The stream drops rows whose committed value is a tombstone (a deleted key is not handed over). */
    SKIP_TOMBSTONES,
    /** A worker's wiped store restarts under its old host id and answers as the old replica (with none of its state). */
    WIPED_NODE_KEEPS_IDENTITY,
    /**
     * A client write forwarded to its key's coordinator (Affinity) that got no answer is reported as nothing written
     * (as if it had not been sent), where the coordinator may have written it: it must be reported outcome unknown.
     */
    FORWARD_UNANSWERED_AS_NOT_WRITTEN,
    /**
     * A client write forwarded to its key's coordinator that got no answer is coordinated by the node that forwarded
     * it, as if it had not been sent: the coordinator may have written it already, so it can be applied twice.
     */
    FORWARD_UNANSWERED_RETRIED_HERE
}
