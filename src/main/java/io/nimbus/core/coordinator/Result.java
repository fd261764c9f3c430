package io.nimbus.core.coordinator;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.Proposal;

/**
 * The one vocabulary for what became of a client request, from the coordinator's core to the API
 * (which alone chooses HTTP statuses). Every ending says whether something may have been written.
 */
public sealed interface Result {

    /** Whether the request's own write may have taken effect although it was not confirmed. */
    default boolean outcomeUnknown() {
        return false;
    }

    /** The current committed proposal (null if never written; a tombstone if deleted). */
    record Read(Proposal committed) implements Result {
    }

    /** Applied; {@code version} is the new version (a delete's tombstone's). */
    record Written(Ballot version) implements Result {
    }

    /** The precondition did not hold; {@code current} is the live version (null: none). Nothing written. */
    record PreconditionFailed(Ballot current) implements Result {
    }

    /** A delete of a key with no live value. Nothing written. */
    record NotFound() implements Result {
    }

    /** This node holds no topology yet. Nothing written. */
    record NotReady(String why) implements Result {
    }

    /** Fewer of the key's replicas are reachable than the level needs; refused before anything was sent. */
    record NotEnoughReplicas(ConsistencyLevel level, int needed, int reachable, String why) implements Result {
    }

    /** Too few replicas answered a phase. Nothing written. */
    record Unavailable(String why) implements Result {
    }

    /**
     * Too few replicas answered because the coordinator refused to load some of them further: it already had
     * as many requests in flight to {@code peers} as it allows, and sent them nothing. Nothing written.
     */
    record Overloaded(java.util.List<String> peers, String why) implements Result {
        public Overloaded {
            peers = java.util.List.copyOf(peers);
        }
    }

    /** Out of time or attempts before this request's own value was proposed. Nothing written. */
    record TimedOut(String why) implements Result {
    }

    /** This request's value may have been accepted but was not confirmed by its level: it may still apply. */
    record OutcomeUnknown(String why) implements Result {
        @Override
        public boolean outcomeUnknown() {
            return true;
        }
    }
}
