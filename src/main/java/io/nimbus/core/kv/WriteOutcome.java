package io.nimbus.core.kv;

/** What became of a {@link Mutation}. */
public sealed interface WriteOutcome {

    /** Applied; {@code version} is the new version (for a delete, the tombstone's). */
    record Applied(KeyState next, Ballot version) implements WriteOutcome {
    }

    /** The precondition did not hold; {@code current} is the live version, null if none. */
    record PreconditionFailed(Ballot current) implements WriteOutcome {
    }

    /** A delete of a key that has no live value: nothing is written. */
    record NotFound() implements WriteOutcome {
    }
}
