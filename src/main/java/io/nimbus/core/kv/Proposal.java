package io.nimbus.core.kv;

import java.util.Arrays;
import java.util.Objects;

/**
 * A value proposed or committed under a ballot. A null value is a tombstone (a delete), which
 * carries its own version like any other write.
 *
 * <p>{@code version} names the write: the ballot its coordinator first proposed it under, and what
 * clients see as the ETag. {@code ballot} is the round it is (re-)proposed or committed in. They differ
 * only when a coordinator finishes another's in-flight proposal ({@link #reproposed}): the value keeps
 * its version, so a write that was already chosen, and acknowledged under its version, does not get a
 * second version when it is finished again. A version is never above its ballot.
 */
public record Proposal(Ballot ballot, Ballot version, byte[] value) {

    public Proposal {
        Objects.requireNonNull(ballot, "ballot");
        Objects.requireNonNull(version, "version");
        if (version.compareTo(ballot) > 0) {
            throw new IllegalArgumentException("version " + version + " is above ballot " + ballot);
        }
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
