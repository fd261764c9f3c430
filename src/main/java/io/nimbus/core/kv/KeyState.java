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

    /**
     * Two replicas' registers for one key as one (TOPOLOGY.md §2, §7): what a replica learns from a
     * streamed row. The committed and the accepted proposal are each the later one ({@link Proposal#ORDER}); the
     * promise is the highest ballot either side promised, accepted or committed. So a merge never invents
     * a proposal (it only picks one some acceptor accepted or committed), never lowers a register, and its
     * result satisfies this record's invariants. Commutative, associative and idempotent.
     *
     * @throws CorruptStateException when both sides hold different values under one ballot and version: two
     *                               values for one write cannot happen, so one of the stores is damaged
     */
    public static KeyState merge(KeyState a, KeyState b) {
        if (a == null || a.equals(EMPTY)) {
            return b == null ? EMPTY : b;
        }
        if (b == null || b.equals(EMPTY) || a.equals(b)) {
            return a;
        }
        Proposal committed = higher(a.committed, b.committed, "committed");
        Proposal accepted = higher(a.accepted, b.accepted, "accepted");
        Ballot promised = max(max(a.promised, b.promised),
                max(accepted == null ? null : accepted.ballot(), committed == null ? null : committed.ballot()));
        return new KeyState(promised, accepted, committed);
    }

    /** Two stores disagree about what one ballot carried. */
    public static final class CorruptStateException extends IllegalStateException {
        public CorruptStateException(String message) {
            super(message);
        }
    }

    private static Proposal higher(Proposal x, Proposal y, String what) {
        if (x == null) {
            return y;
        }
        if (y == null) {
            return x;
        }
        int c = Proposal.ORDER.compare(x, y);
        if (c == 0 && !x.equals(y)) {
            throw new CorruptStateException("two different " + what + " proposals under ballot " + x.ballot()
                    + " with version " + x.version() + ": " + x + " and " + y);
        }
        return c >= 0 ? x : y;
    }

    private static Ballot max(Ballot x, Ballot y) {
        return x == null ? y : y == null || x.compareTo(y) >= 0 ? x : y;
    }
}
