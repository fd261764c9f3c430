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
        if (!mutation.precondition().holds(current)) {
            return new WriteOutcome.PreconditionFailed(current.liveVersion());
        }
        if (mutation.isDelete() && !current.exists()) {
            return new WriteOutcome.NotFound();
        }
        Proposal proposal = new Proposal(ballot, mutation.value());
        return new WriteOutcome.Applied(new KeyState(ballot, proposal, proposal), ballot);
    }
}
