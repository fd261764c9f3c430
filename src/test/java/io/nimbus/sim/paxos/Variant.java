package io.nimbus.sim.paxos;

/**
 * What runs in the simulated cluster: the real core, or a deliberately broken variant used to show that
 * the checks bite. A variant changes only the behaviour named here; every random draw of a seed (cluster
 * shape, faults, client operations) is the same for all variants.
 */
enum Variant {
    /** The real {@code Acceptor} and {@code Proposer}; every transition is durable before its reply leaves. */
    CORRECT,
    /**
     * The acceptor does not persist its promise: after a restart it reconstructs it as the highest ballot
     * it accepted or committed, so it may accept a proposal below a ballot it promised before the crash.
     */
    FORGETS_PROMISE_ON_RESTART,
    /**
     * The acceptor replies as soon as it has decided and persists afterwards: a crash in between loses a
     * promise or an accept that the proposer already counted.
     */
    REPLIES_BEFORE_DURABLE,
    /**
     * A proposer shim that drops the accepted proposal from every promise it receives: in-flight values
     * that may have been chosen are never finished, the next write is based on the last commit only.
     */
    PROPOSER_IGNORES_ACCEPTED,
    /**
     * The write fast path answered too early: a write's client is told it succeeded as soon as the first replica
     * accepted its proposal, before a quorum did (before it is chosen). The real proposer goes on as usual and
     * commits it only if a quorum accepts it; a rival may pre-empt it and it is then never chosen.
     */
    ACKS_BEFORE_ACCEPT_QUORUM,
    /**
     * The read fast path misses what is in flight: a proposer shim that drops the accepted proposal from every
     * register read ({@code State}) it receives, so a read answers the newest commit although a newer value may
     * be chosen (accepted by a quorum, its commits not landed yet) — as every write is when it is answered.
     */
    READ_IGNORES_ACCEPTED,
    /**
     * One round trip without its guard: an acceptor takes a write proposed in its coordinator's term although it
     * promised a higher ballot since (another coordinator prepared the key), keeping that promise. A stale term's write
     * is then chosen on top of the term's last write, past what the other coordinator chose meanwhile.
     */
    TERM_WRITE_IGNORES_PROMISE,
    /**
     * A term outlives a write whose outcome is unknown: the coordinator holds the term again as if that write had not
     * happened, so its next write is judged against the write before it — which that write may have replaced.
     */
    TERM_KEPT_AFTER_UNKNOWN
}
