package io.nimbus.core.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;

/** Requests a coordinator sends to a key's replicas, and their replies. */
public sealed interface PaxosMessage {

    /** Requests, each about one key. */
    sealed interface Request extends PaxosMessage {
        String key();
    }

    record Prepare(String key, Ballot ballot) implements Request {
    }

    record Propose(String key, Proposal proposal) implements Request {
    }

    record Commit(String key, Proposal proposal) implements Request {
    }

    /** A plain read of the committed value (consistency ONE). */
    record ReadCommitted(String key) implements Request {
    }

    sealed interface PrepareReply extends PaxosMessage {
    }

    sealed interface AcceptReply extends PaxosMessage {
    }

    /** A promise for {@code ballot}, with what this acceptor had accepted and committed before it. */
    record Promised(Ballot ballot, Proposal accepted, Proposal committed) implements PrepareReply {
    }

    record Accepted(Ballot ballot) implements AcceptReply {
    }

    /** Refused: a higher ballot was promised. */
    record Rejected(Ballot promised) implements PrepareReply, AcceptReply {
    }

    record Committed() implements PaxosMessage {
    }

    /**
     * Refused by the replica's fence (nothing changed there): the request's topology epoch is older than
     * the last placement change of the key's range that the replica knows ({@code notMember} false), or
     * the request named a host id that is not the replica's ({@code notMember} true: the replica was
     * wiped, or the name now belongs to another store). {@code epoch} is the replica's topology epoch.
     */
    record Fenced(long epoch, boolean notMember) implements PrepareReply, AcceptReply {
    }

    record State(KeyState state) implements PaxosMessage {
    }
}
