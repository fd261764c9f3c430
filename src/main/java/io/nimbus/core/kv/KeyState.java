package io.nimbus.core.kv;

/**
 * Everything one replica knows about one key: the Paxos acceptor registers (the highest ballot it
 * promised, the last proposal it accepted) and the last committed proposal, which is what reads see.
 * Any field may be null (never promised / never accepted / never written).
 *
 * <p>Invariants, checked here so a broken state can never be built: an accepted proposal is never
 * above the promise, and the promise is never below the committed ballot.
 */
public record KeyState(Ballot promised, Proposal accepted, Proposal committed) {

    public static final KeyState EMPTY = new KeyState(null, null, null);

    public KeyState {
        if (accepted != null && promised != null && accepted.ballot().compareTo(promised) > 0) {
            throw new IllegalStateException("accepted " + accepted.ballot() + " is above promised " + promised);
        }
        if (committed != null && promised != null && committed.ballot().compareTo(promised) > 0) {
            throw new IllegalStateException("committed " + committed.ballot() + " is above promised " + promised);
        }
    }

    /** True when a live (non-tombstone) value is committed. */
    public boolean exists() {
        return committed != null && !committed.isTombstone();
    }

    /** The version a client sees: the committed write's version (see {@link Proposal}) if live, else null. */
    public Ballot liveVersion() {
        return exists() ? committed.version() : null;
    }
}
