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
     * The topology shell in main as it is: a change waits for its own barrier, but a change by another
     * driver that read its epoch before that barrier passed does not (TopologyService.transform never
     * runs the barrier of the epoch it read), so epoch e+1 can be committed before e's barrier passed.
     * {@link #CORRECT} runs that barrier first ({@code ClusterSim.Node#barrierBefore}).
     */
    SHELL_AS_IS
}
