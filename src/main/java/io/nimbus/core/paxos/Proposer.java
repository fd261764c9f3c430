package io.nimbus.core.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One coordinator's attempt to run an operation on one key through single-decree Paxos rounds
 * (prepare → accept → commit), in the style of CASPaxos and Cassandra's lightweight transactions.
 * Pure: the shell sends what {@link Step.Send} lists, feeds replies back, and on
 * {@link Step.Restart} starts again with a higher ballot (after a randomized backoff when the
 * restart was caused by a competing ballot).
 *
 * <p>After a quorum of promises: if some acceptor reports an accepted proposal newer than the newest
 * commit any of them knows, that proposal may have been chosen, so it is re-proposed under this
 * attempt's ballot and committed first (then the attempt restarts). Otherwise the newest commit is
 * the current value: a read returns it; a write evaluates its precondition against it and, if it
 * holds, proposes the new value with this ballot (which becomes its version) and commits it.
 * Replicas whose commit was older get the newest one as a repair.
 */
public final class Proposer {

    /** What the client asked for. */
    public sealed interface Op {
        record Read() implements Op {
        }

        /** A write ({@code value != null}) or delete, under a precondition. */
        record Write(byte[] value, Precondition precondition) implements Op {
        }
    }

    /** How it ended. */
    public sealed interface Outcome {
        /** The current committed proposal (null if never written; a tombstone if deleted). */
        record Read(Proposal committed) implements Outcome {
        }

        record Written(Ballot version) implements Outcome {
        }

        record PreconditionFailed(Ballot current) implements Outcome {
        }

        record NotFound() implements Outcome {
        }
    }

    /** A request to one replica. */
    public record Envelope(String to, PaxosMessage.Request request) {
    }

    /** What the shell should do next. */
    public sealed interface Step {
        record Send(List<Envelope> messages) implements Step {
        }

        /** Finished; {@code repairs} are fire-and-forget commits to lagging replicas. */
        record Done(Outcome outcome, List<Envelope> repairs) implements Step {
        }

        /** Start again with a ballot above {@code seen} (null: no competitor, an in-flight proposal was finished). */
        record Restart(Ballot seen) implements Step {
        }

        record Waiting() implements Step {
        }
    }

    private enum Phase { IDLE, PREPARE, REPAIR_ACCEPT, REPAIR_COMMIT, ACCEPT, COMMIT, DONE }

    private static final Step WAITING = new Step.Waiting();

    private final String key;
    private final Op op;
    private final List<String> replicas;
    private final int quorum;
    private Phase phase = Phase.IDLE;
    private Ballot ballot;
    private Proposal proposal;
    private final Set<String> replied = new HashSet<>();
    private final List<PaxosMessage.Promised> promises = new ArrayList<>();
    private final List<String> promisers = new ArrayList<>();
    private int accepted;
    private int rejected;
    private Ballot highestRejection;

    public Proposer(String key, Op op, List<String> replicas, int quorum) {
        if (quorum < 1 || quorum > replicas.size()) {
            throw new IllegalArgumentException("quorum " + quorum + " of " + replicas.size() + " replicas");
        }
        this.key = key;
        this.op = op;
        this.replicas = List.copyOf(replicas);
        this.quorum = quorum;
    }

    public Ballot ballot() {
        return ballot;
    }

    /** True once the accept phase of this attempt has begun: from then on a failure leaves the outcome unknown. */
    public boolean mayHaveWritten() {
        return phase == Phase.ACCEPT || phase == Phase.COMMIT || phase == Phase.REPAIR_ACCEPT
                || phase == Phase.REPAIR_COMMIT;
    }

    /** Begins an attempt with {@code b} (above any ballot seen): prepare to every replica. */
    public Step start(Ballot b) {
        if (ballot != null && b.compareTo(ballot) <= 0) {
            throw new IllegalArgumentException("a new attempt needs a higher ballot than " + ballot + ", got " + b);
        }
        ballot = b;
        phase = Phase.PREPARE;
        proposal = null;
        replied.clear();
        promises.clear();
        promisers.clear();
        accepted = 0;
        rejected = 0;
        highestRejection = null;
        return toAll(r -> new PaxosMessage.Prepare(key, b));
    }

    public Step onPrepareReply(String from, PaxosMessage.PrepareReply reply) {
        if (phase != Phase.PREPARE || !replicas.contains(from) || !replied.add(from)) {
            return WAITING;
        }
        if (reply instanceof PaxosMessage.Rejected r) {
            return rejectedBy(r.promised());
        }
        PaxosMessage.Promised p = (PaxosMessage.Promised) reply;
        if (!p.ballot().equals(ballot)) {
            throw new IllegalStateException("promise for " + p.ballot() + " in an attempt with " + ballot);
        }
        promises.add(p);
        promisers.add(from);
        return promises.size() == quorum ? decide() : WAITING;
    }

    private Step decide() {
        Proposal newestCommit = null;
        for (PaxosMessage.Promised p : promises) {
            if (p.committed() != null && (newestCommit == null || p.committed().ballot().compareTo(newestCommit.ballot()) > 0)) {
                newestCommit = p.committed();
            }
        }
        Proposal inFlight = null;
        for (PaxosMessage.Promised p : promises) {
            Proposal a = p.accepted();
            if (a != null && (newestCommit == null || a.ballot().compareTo(newestCommit.ballot()) > 0)
                    && (inFlight == null || a.ballot().compareTo(inFlight.ballot()) > 0)) {
                inFlight = a;
            }
        }
        List<Envelope> repairs = new ArrayList<>();
        if (newestCommit != null) {
            for (int i = 0; i < promises.size(); i++) {
                Proposal c = promises.get(i).committed();
                if (c == null || c.ballot().compareTo(newestCommit.ballot()) < 0) {
                    repairs.add(new Envelope(promisers.get(i), new PaxosMessage.Commit(key, newestCommit)));
                }
            }
        }
        if (inFlight != null) {
            proposal = new Proposal(ballot, inFlight.value());
            return beginAccept(Phase.REPAIR_ACCEPT, repairs);
        }
        if (op instanceof Op.Read) {
            phase = Phase.DONE;
            return new Step.Done(new Outcome.Read(newestCommit), repairs);
        }
        Op.Write w = (Op.Write) op;
        KeyState current = new KeyState(null, null, newestCommit);
        if (!w.precondition().holds(current)) {
            phase = Phase.DONE;
            return new Step.Done(new Outcome.PreconditionFailed(current.liveVersion()), repairs);
        }
        if (w.value() == null && !current.exists()) {
            phase = Phase.DONE;
            return new Step.Done(new Outcome.NotFound(), repairs);
        }
        proposal = new Proposal(ballot, w.value());
        return beginAccept(Phase.ACCEPT, repairs);
    }

    private Step beginAccept(Phase next, List<Envelope> repairs) {
        phase = next;
        replied.clear();
        rejected = 0;
        List<Envelope> out = new ArrayList<>(repairs);
        for (String r : replicas) {
            out.add(new Envelope(r, new PaxosMessage.Propose(key, proposal)));
        }
        return new Step.Send(out);
    }

    public Step onAcceptReply(String from, PaxosMessage.AcceptReply reply) {
        if ((phase != Phase.ACCEPT && phase != Phase.REPAIR_ACCEPT) || !replicas.contains(from) || !replied.add(from)) {
            return WAITING;
        }
        if (reply instanceof PaxosMessage.Rejected r) {
            return rejectedBy(r.promised());
        }
        if (++accepted < quorum) {
            return WAITING;
        }
        phase = phase == Phase.ACCEPT ? Phase.COMMIT : Phase.REPAIR_COMMIT;
        replied.clear();
        accepted = 0;
        return toAll(r -> new PaxosMessage.Commit(key, proposal));
    }

    public Step onCommitted(String from) {
        if ((phase != Phase.COMMIT && phase != Phase.REPAIR_COMMIT) || !replicas.contains(from) || !replied.add(from)) {
            return WAITING;
        }
        if (++accepted < quorum) {
            return WAITING;
        }
        if (phase == Phase.REPAIR_COMMIT) {
            phase = Phase.IDLE;
            return new Step.Restart(null);
        }
        phase = Phase.DONE;
        return new Step.Done(new Outcome.Written(ballot), List.of());
    }

    private Step rejectedBy(Ballot promised) {
        if (highestRejection == null || promised.compareTo(highestRejection) > 0) {
            highestRejection = promised;
        }
        if (++rejected > replicas.size() - quorum) {
            phase = Phase.IDLE;
            return new Step.Restart(highestRejection);
        }
        return WAITING;
    }

    private Step toAll(java.util.function.Function<String, PaxosMessage.Request> make) {
        List<Envelope> out = new ArrayList<>(replicas.size());
        for (String r : replicas) {
            out.add(new Envelope(r, make.apply(r)));
        }
        return new Step.Send(out);
    }
}
