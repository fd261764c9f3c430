package io.nimbus.core.kv;

import java.util.Objects;

/** A client's write or delete of one key; {@code value == null} deletes. */
public record Mutation(String key, byte[] value, Precondition precondition) {

    public Mutation {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(precondition, "precondition");
    }

    public boolean isDelete() {
        return value == null;
    }

    /**
     * Why this mutation cannot apply on top of {@code current}: its precondition fails (with the live
     * version), or it deletes a key that has no live value. Null if it can apply. The one rule every
     * write path uses (a lone replica, the Paxos proposer, and consistency ONE).
     */
    public WriteOutcome refusal(KeyState current) {
        if (!precondition.holds(current)) {
            return new WriteOutcome.PreconditionFailed(current.liveVersion());
        }
        if (isDelete() && !current.exists()) {
            return new WriteOutcome.NotFound();
        }
        return null;
    }
}
