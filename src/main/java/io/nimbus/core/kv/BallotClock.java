package io.nimbus.core.kv;

/**
 * Issues strictly increasing ballots for one node. Time is an input (microseconds since the epoch,
 * read by the caller); the counter never goes backwards even if the wall clock does, and it starts
 * above the persisted high-water mark so that a restarted node never reuses a ballot.
 * Not thread-safe: one owner (the store's writer) calls it.
 */
public final class BallotClock {
    private final String nodeId;
    private long last;

    public BallotClock(String nodeId, long highWaterMark) {
        this.nodeId = nodeId;
        this.last = highWaterMark;
    }

    public Ballot next(long nowMicros) {
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
