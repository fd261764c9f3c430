package io.nimbus.core.kv;

/**
 * Issues strictly increasing ballots for one node. Time is an input (microseconds since the epoch,
 * read by the caller); the counter never goes backwards even if the wall clock does, and it starts
 * above the persisted high-water mark so that a restarted node never reuses a ballot.
 * It never wraps: once the counter reached {@link Long#MAX_VALUE} (only a forged or corrupt ballot can
 * take it there, see {@code io.nimbus.core.paxos.BallotHorizon}) {@link #next} refuses with {@link ExhaustedException}
 * rather than issue a ballot lower than one already seen.
 * Not thread-safe: one owner (the store's writer) calls it.
 */
public final class BallotClock {
    private final String nodeId;
    private long last;

    public BallotClock(String nodeId, long highWaterMark) {
        this.nodeId = nodeId;
        this.last = highWaterMark;
    }

    /** No ballot above the highest one seen exists: this node can propose nothing more on any key. */
    public static final class ExhaustedException extends IllegalStateException {
        public ExhaustedException(String message) {
            super(message);
        }
    }

    /** The next ballot, above every one issued or observed; refuses (never wraps) when none is left. */
    public Ballot next(long nowMicros) {
        if (last == Long.MAX_VALUE) {
            throw new ExhaustedException("ballot counter exhausted: node " + nodeId + " has seen ballot counter "
                    + Long.MAX_VALUE + " (a forged or corrupt ballot; ballots more than nimbus.paxos.ballot-ahead-max-ms "
                    + "ahead of the clock are refused on receipt, so this state predates that check or was written "
                    + "locally) and cannot issue a higher one");
        }
        last = Math.max(last + 1, nowMicros);
        return new Ballot(last, nodeId);
    }

    /** Moves the clock past a ballot seen from elsewhere (later: from other proposers). */
    public void observe(Ballot seen) {
        last = Math.max(last, seen.counter());
    }

    /** The highest counter issued or observed: persist it with every batch that used it. */
    public long highWaterMark() {
        return last;
    }
}
