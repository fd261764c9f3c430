package io.nimbus.core.kv;

import java.util.Arrays;
import java.util.Objects;

/**
 * A value proposed or committed under a ballot. A null value is a tombstone (a delete), which
 * carries its own version like any other write.
 */
public record Proposal(Ballot ballot, byte[] value) {

    public Proposal {
        Objects.requireNonNull(ballot, "ballot");
    }

    public static Proposal tombstone(Ballot ballot) {
        return new Proposal(ballot, null);
    }

    public boolean isTombstone() {
        return value == null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Proposal p && ballot.equals(p.ballot) && Arrays.equals(value, p.value);
    }

    @Override
    public int hashCode() {
        return 31 * ballot.hashCode() + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "Proposal[" + ballot.token() + (value == null ? ", tombstone]" : ", " + value.length + " bytes]");
    }
}
