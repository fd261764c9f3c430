package io.nimbus.core.kv;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;

/**
 * A value proposed or committed under a ballot. A null value is a tombstone (a delete), which
 * carries its own version like any other write.
 *
 * <p>{@code version} names the write: the ballot its coordinator first proposed it under, and what
 * clients see as the ETag. {@code ballot} is the round it is (re-)proposed or committed in. They differ
 * when a coordinator finishes another's in-flight proposal ({@link #reproposed}): the value keeps
 * its version, so a write that was already chosen, and acknowledged under its version, does not get a
 * second version when it is finished again. They also differ for a write proposed in its coordinator's
 * term ({@link #inTerm}, docs/PAXOS.md "One round trip"): its ballot is the term's, its version a fresh
 * ballot of the same coordinator, above the term's.
 *
 * <p>Proposals are ordered by ballot, then version ({@link #ORDER}): under one ballot only its owner proposes,
 * one write after another, each with a higher version than the last.
 */
public record Proposal(Ballot ballot, Ballot version, byte[] value) {

    /** The order in which an acceptor's registers advance: by ballot, then by version. */
    public static final Comparator<Proposal> ORDER = Comparator.comparing(Proposal::ballot).thenComparing(Proposal::version);

    public Proposal {
        Objects.requireNonNull(ballot, "ballot");
        Objects.requireNonNull(version, "version");
    }

    /** A new write: its version is its ballot. */
    public Proposal(Ballot ballot, byte[] value) {
        this(ballot, ballot, value);
    }

    public static Proposal tombstone(Ballot ballot) {
        return new Proposal(ballot, null);
    }

    /** The same write (value and version) proposed again under a higher ballot. */
    public Proposal reproposed(Ballot higher) {
        if (higher.compareTo(ballot) <= 0) {
            throw new IllegalArgumentException("re-proposal under " + higher + " is not above " + ballot);
        }
        return new Proposal(higher, version, value);
    }

    /**
     * A new write in the term {@code term} (a ballot a quorum promised to this coordinator): proposed under the
     * term's ballot with {@code version}, a fresh ballot of the term's owner above it.
     */
    public static Proposal inTerm(Ballot term, Ballot version, byte[] value) {
        if (version.compareTo(term) <= 0 || !version.nodeId().equals(term.nodeId())) {
            throw new IllegalArgumentException("version " + version + " is not a later ballot of term " + term + "'s owner");
        }
        return new Proposal(term, version, value);
    }

    /** Is this proposal after {@code other} in {@link #ORDER} (true if {@code other} is null)? */
    public boolean isAfter(Proposal other) {
        return other == null || ORDER.compare(this, other) > 0;
    }

    public boolean isTombstone() {
        return value == null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Proposal p && ballot.equals(p.ballot) && version.equals(p.version) && Arrays.equals(value, p.value);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * ballot.hashCode() + version.hashCode()) + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "Proposal[" + ballot.token() + (version.equals(ballot) ? "" : " version " + version.token())
                + (value == null ? ", tombstone]" : ", " + value.length + " bytes]");
    }
}
