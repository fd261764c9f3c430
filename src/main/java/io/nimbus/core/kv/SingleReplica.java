package io.nimbus.core.kv;

/**
 * The write rule of a replica that is alone (replication factor 1): the mutation's precondition is
 * evaluated against the committed state and, if it holds, the mutation is committed directly under
 * a fresh ballot. With one acceptor, prepare/accept/commit collapse into this single durable step;
 * the registers are still kept so that the replicated protocol starts from a well-formed state.
 */
public final class SingleReplica {

    private SingleReplica() {
    }

    public static WriteOutcome apply(KeyState current, Mutation mutation, Ballot ballot) {
        if (current.promised() != null && !ballot.isNewerThan(current.promised())) {
            throw new IllegalStateException("ballot " + ballot + " is not above promise " + current.promised()
                    + ": the ballot clock went backwards");
        }
        if (current.committed() != null && !ballot.isNewerThan(current.committed().ballot())) {
            throw new IllegalStateException("ballot " + ballot + " is not above committed " + current.committed().ballot()
                    + ": versions would go backwards");
        }
        current = settled(current);
        WriteOutcome refused = mutation.refusal(current);
        if (refused != null) {
            return refused;
        }
        Proposal proposal = new Proposal(ballot, mutation.value());
        // (an in-flight proposal folded in by settled() is superseded by this one)
        return new WriteOutcome.Applied(new KeyState(ballot, proposal, proposal), ballot);
    }

    /**
     * The registers as a lone replica must read them: with one acceptor, an accepted proposal after
     * the commit ({@link Proposal#ORDER}: a write in a term shares its ballot with the one before) is already chosen (a quorum of one accepted it), even if its coordinator has
     * not sent the commit yet, so it counts as committed.
     */
    public static KeyState settled(KeyState s) {
        Proposal a = s.accepted();
        if (a != null && a.isAfter(s.committed())) {
            return new KeyState(s.promised(), a, a);
        }
        return s;
    }
}
