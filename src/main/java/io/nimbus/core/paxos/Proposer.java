package io.nimbus.core.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * One coordinator's attempt to run an operation on one key through single-decree Paxos rounds
 * (prepare → accept → commit), in the style of CASPaxos and Cassandra's lightweight transactions.
 * Pure: the shell sends what {@link Step.Send} lists, feeds every reply back with the request it
 * answers ({@link #onReply}), reports requests that got no answer ({@link #onNoReply}), and on
 * {@link Step.Restart} starts again with a higher ballot after a randomized backoff.
 *
 * <p>After a quorum of promises: if some acceptor reports an accepted proposal newer than the newest
 * commit any of them knows, that proposal may have been chosen, so it is re-proposed under this
 * attempt's ballot and committed first (then the attempt restarts). Otherwise the newest commit is
 * the current value: a read returns it; a write evaluates its precondition against it and, if it
 * holds, proposes the new value with this ballot (which becomes its version). Once a quorum accepted
 * it, it is chosen: the write is answered then, and its commits go to every replica fire-and-forget
 * (a later prepare that finds it accepted but not committed finishes it, as above). Replicas whose
 * commit was older get the newest one as a repair.
 *
 * <p>A read first asks for the replicas' registers without a promise (nothing written anywhere); when a
 * quorum reports nothing accepted above the newest commit among them, that commit is the answer — no
 * durable step at all. Otherwise it goes on with the prepare round above.
 *
 * <p>Replies are matched to the phase by the request they answer (its ballot), so a late, duplicated
 * or stray reply from an earlier phase or attempt is ignored. Once this operation's own value has
 * been proposed, the attempt is never restarted unless every replica asked refused it: a value
 * accepted by a minority can still be chosen later (a rival finishes it), so a retry could apply the
 * write twice or judge a compare-and-set against its own effect. Such an ending is
 * {@link Step.Failed} with {@code outcomeUnknown}.
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
        /** Send {@code messages} and feed their replies back; {@code repairs} are fire-and-forget commits. */
        record Send(List<Envelope> messages, List<Envelope> repairs) implements Step {
        }

        /**
         * Finished; {@code repairs} are fire-and-forget commits: to lagging replicas, and after a write to every
         * replica (the write is chosen once a quorum accepted it; the commits only spread the news).
         */
        record Done(Outcome outcome, List<Envelope> repairs) implements Step {
        }

        /**
         * Start again with a ballot above {@code seen} (null: no competitor, an in-flight proposal was
         * finished). Nothing of this operation was written.
         */
        record Restart(Ballot seen) implements Step {
        }

        /**
         * Cannot finish: too few replicas answered, or the operation's own proposal lost to a rival after
         * some replica may have accepted it. {@code outcomeUnknown}: the write may yet take effect.
         */
        record Failed(boolean outcomeUnknown, String why) implements Step {
        }

        record Waiting() implements Step {
        }
    }

    private enum Phase { IDLE, READ, PREPARE, REPAIR_ACCEPT, REPAIR_COMMIT, ACCEPT, DONE }

    private static final Step WAITING = new Step.Waiting();

    private final String key;
    private final Op op;
    private final List<String> replicas;
    private final Quorum quorum;
    private Phase phase = Phase.IDLE;
    private Ballot ballot;
    private Proposal proposal;
    private final Set<String> replied = new HashSet<>();
    /** Replicas that said yes in the running phase. */
    private final Set<String> ackers = new HashSet<>();
    private final List<PaxosMessage.Promised> promises = new ArrayList<>();
    private final List<String> promisers = new ArrayList<>();
    /** A read's first round: the registers a quorum reported without promising anything, and who reported them. */
    private final List<KeyState> states = new ArrayList<>();
    private final List<String> stateReporters = new ArrayList<>();
    /**
     * The register reads this attempt sent, by identity: such a read carries no ballot, so an answer (or a silence)
     * is matched to the very request object sent in this phase — a late silence of an earlier attempt's read
     * must not count as this one's (it would drop the real answer).
     */
    private final Set<Envelope> readsSent = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private int rejected;
    private int silent;
    private Ballot highestRejection;
    /** Once done: the commit this request settled on (null if the key was never written or it did not finish). */
    private Proposal settled;
    /** The highest topology epoch a replica's fence reported (0: none fenced this operation). */
    private long fencedEpoch;

    /**
     * @param replicas the replicas that will be asked (the reachable ones)
     * @param quorum   which sets of them must answer each phase (the level's quorum over the key's replicas)
     */
    public Proposer(String key, Op op, List<String> replicas, Quorum quorum) {
        if (new HashSet<>(replicas).size() != replicas.size()) {
            throw new IllegalArgumentException("replicas repeat: " + replicas);
        }
        if (!quorum.satisfiableWith(Set.copyOf(replicas))) {
            throw new IllegalArgumentException(quorum.describe() + " cannot be formed from " + replicas);
        }
        this.key = key;
        this.op = op;
        this.replicas = List.copyOf(replicas);
        this.quorum = quorum;
    }

    public Ballot ballot() {
        return ballot;
    }

    /**
     * The highest topology epoch a replica's fence answered with, 0 if none: when above the epoch the
     * replicas were chosen from, the shell should learn the newer topology and start over with its
     * placement (a refusal by the fence changed nothing at that replica).
     */
    public long fencedEpoch() {
        return fencedEpoch;
    }

    /**
     * True while this operation's own value is proposed and not yet accepted by a quorum: a failure now leaves
     * the outcome unknown. (Once a quorum accepted it the write is chosen and answered at once.)
     */
    public boolean mayHaveWritten() {
        return phase == Phase.ACCEPT;
    }

    /**
     * Begins an attempt with {@code b} (above any ballot seen): prepare to every replica — or, for a read, first
     * a request for each replica's registers that promises nothing ({@link PaxosMessage.ReadCommitted}, answered
     * with {@link PaxosMessage.State} and written nowhere). If a quorum reports nothing accepted above the newest
     * commit among them, that commit is the answer; otherwise the read goes on with prepare({@code b}).
     */
    public Step start(Ballot b) {
        if (ballot != null && b.compareTo(ballot) <= 0) {
            throw new IllegalArgumentException("a new attempt needs a higher ballot than " + ballot + ", got " + b);
        }
        if (phase != Phase.IDLE) {
            throw new IllegalStateException("an attempt is under way (" + phase + "); start only after Restart");
        }
        ballot = b;
        proposal = null;
        promises.clear();
        promisers.clear();
        if (op instanceof Op.Read) {
            states.clear();
            stateReporters.clear();
            beginPhase(Phase.READ);
            List<Envelope> reads = toAll(r -> new PaxosMessage.ReadCommitted(key));
            readsSent.clear();
            readsSent.addAll(reads);
            return new Step.Send(reads, List.of());
        }
        return prepare();
    }

    private Step prepare() {
        beginPhase(Phase.PREPARE);
        return new Step.Send(toAll(r -> new PaxosMessage.Prepare(key, ballot)), List.of());
    }

    /** A reply to {@code request}, one of the messages of a {@link Step.Send}. */
    public Step onReply(Envelope request, PaxosMessage reply) {
        if (!current(request) || !replied.add(request.to())) {
            return WAITING;
        }
        if (reply instanceof PaxosMessage.Fenced f) {
            rejected++;
            fencedEpoch = Math.max(fencedEpoch, f.epoch());
            return settle();
        }
        if (reply instanceof PaxosMessage.Rejected r) {
            rejected++;
            if (highestRejection == null || r.promised().compareTo(highestRejection) > 0) {
                highestRejection = r.promised();
            }
            return settle();
        }
        switch (phase) {
            case READ -> {
                if (!(reply instanceof PaxosMessage.State s)) {
                    throw new IllegalStateException("replica " + request.to() + " answered a read of its registers with " + reply);
                }
                states.add(s.state());
                stateReporters.add(request.to());
                ackers.add(request.to());
                return quorum.satisfiedBy(ackers) ? decideRead() : settle();
            }
            case PREPARE -> {
                if (!(reply instanceof PaxosMessage.Promised p) || !p.ballot().equals(ballot)) {
                    throw new IllegalStateException("replica " + request.to() + " answered prepare " + ballot + " with " + reply);
                }
                promises.add(p);
                promisers.add(request.to());
                ackers.add(request.to());
                return quorum.satisfiedBy(ackers) ? decide() : settle();
            }
            case ACCEPT, REPAIR_ACCEPT -> {
                if (!(reply instanceof PaxosMessage.Accepted a) || !a.ballot().equals(ballot)) {
                    throw new IllegalStateException("replica " + request.to() + " answered accept " + ballot + " with " + reply);
                }
                ackers.add(request.to());
                if (!quorum.satisfiedBy(ackers)) {
                    return settle(); // after refusals this may have been the last answer
                }
                if (phase == Phase.ACCEPT) {
                    // Chosen: a quorum accepted it under one ballot, and every later prepare quorum meets this one.
                    // The client is answered now; the commits go to every replica without being waited for.
                    phase = Phase.DONE;
                    settled = proposal;
                    return new Step.Done(new Outcome.Written(ballot), toAll(r -> new PaxosMessage.Commit(key, proposal)));
                }
                beginPhase(Phase.REPAIR_COMMIT);
                return new Step.Send(toAll(r -> new PaxosMessage.Commit(key, proposal)), List.of());
            }
            case REPAIR_COMMIT -> {
                if (!(reply instanceof PaxosMessage.Committed)) {
                    throw new IllegalStateException("replica " + request.to() + " answered commit " + ballot + " with " + reply);
                }
                ackers.add(request.to());
                if (!quorum.satisfiedBy(ackers)) {
                    return settle();
                }
                phase = Phase.IDLE;
                return new Step.Restart(null);
            }
            default -> throw new IllegalStateException("reply in phase " + phase);
        }
    }

    /**
     * After {@link Step.Done}: a promise that arrived too late to count, from a replica whose commit is
     * older than the one this request settled on, earns that replica a repair, so that every replica
     * that answers a read is brought up to date, not only the first quorum.
     */
    public List<Envelope> lateRepairs(Envelope request, PaxosMessage reply) {
        if (phase != Phase.DONE || settled == null || !replicas.contains(request.to())) {
            return List.of();
        }
        Proposal committed;
        if (request.request() instanceof PaxosMessage.Prepare pr && pr.ballot().equals(ballot)
                && reply instanceof PaxosMessage.Promised p) {
            committed = p.committed();
        } else if (readsSent.contains(request) && reply instanceof PaxosMessage.State s) {
            committed = s.state().committed();
        } else {
            return List.of();
        }
        if (committed != null && committed.ballot().compareTo(settled.ballot()) >= 0) {
            return List.of();
        }
        return List.of(new Envelope(request.to(), new PaxosMessage.Commit(key, settled)));
    }

    /** {@code request} got no answer in time (or could not be sent). */
    public Step onNoReply(Envelope request) {
        if (!current(request) || !replied.add(request.to())) {
            return WAITING;
        }
        silent++;
        return settle();
    }

    /** Is {@code request} one of the messages of the phase now running? */
    private boolean current(Envelope request) {
        if (!replicas.contains(request.to())) {
            return false;
        }
        PaxosMessage.Request r = request.request();
        return switch (phase) {
            case READ -> readsSent.contains(request);
            case PREPARE -> r instanceof PaxosMessage.Prepare p && p.ballot().equals(ballot);
            case ACCEPT, REPAIR_ACCEPT -> r instanceof PaxosMessage.Propose p && p.proposal().ballot().equals(ballot);
            case REPAIR_COMMIT -> r instanceof PaxosMessage.Commit c && c.proposal().ballot().equals(ballot);
            default -> false;
        };
    }

    /** After a refusal or a silence: can the phase still reach a quorum? If not, how does it end? */
    private Step settle() {
        Set<String> possible = new HashSet<>(ackers);
        for (String r : replicas) {
            if (!replied.contains(r)) {
                possible.add(r);
            }
        }
        int outstanding = replicas.size() - replied.size();
        if (quorum.satisfiableWith(possible)) {
            return WAITING;
        }
        int positive = ackers.size();
        if (phase == Phase.ACCEPT && positive == 0 && silent == 0 && outstanding > 0) {
            return WAITING; // so far only refusals: if the rest refuse too, nothing was written and a retry is safe
        }
        Phase was = phase;
        phase = Phase.IDLE;
        if (was == Phase.ACCEPT) {
            if (rejected == replicas.size()) {
                return new Step.Restart(highestRejection); // every replica refused it: nothing was written
            }
            phase = Phase.DONE;
            return new Step.Failed(true, "the write was proposed but "
                    + (rejected > 0 ? "a competing write took over" : "too few replicas answered")
                    + " before a quorum accepted it (accepted by " + sorted(ackers) + "; needed: " + quorum.describe() + ")");
        }
        if (rejected > 0) {
            return new Step.Restart(highestRejection);
        }
        phase = Phase.DONE;
        return new Step.Failed(false, "only " + sorted(ackers) + " of " + replicas + " answered "
                + was.name().toLowerCase().replace('_', ' ') + " in time; needed: " + quorum.describe());
    }

    /**
     * A quorum reported its registers without promising. Let {@code C} be the newest commit among them: it was
     * chosen. Every value chosen before this read began was accepted by a quorum, which meets this one, and an
     * acceptor's accepted and committed ballots never go down: so a chosen value newer than {@code C} shows here
     * as accepted (or committed) above {@code C}. None does: {@code C} is the newest value chosen before the read
     * began or one chosen since, and answering it is linearizable. Otherwise something may be in flight (or
     * chosen and not committed yet): the full path decides (prepare, finish it).
     */
    private Step decideRead() {
        Proposal newestCommit = null;
        for (KeyState s : states) {
            if (s.committed() != null && (newestCommit == null || s.committed().ballot().compareTo(newestCommit.ballot()) > 0)) {
                newestCommit = s.committed();
            }
        }
        for (KeyState s : states) {
            if (s.accepted() != null && (newestCommit == null || s.accepted().ballot().compareTo(newestCommit.ballot()) > 0)) {
                return prepare();
            }
        }
        List<Envelope> repairs = new ArrayList<>();
        if (newestCommit != null) {
            for (int i = 0; i < states.size(); i++) {
                Proposal c = states.get(i).committed();
                if (c == null || c.ballot().compareTo(newestCommit.ballot()) < 0) {
                    repairs.add(new Envelope(stateReporters.get(i), new PaxosMessage.Commit(key, newestCommit)));
                }
            }
        }
        settled = newestCommit;
        phase = Phase.DONE;
        return new Step.Done(new Outcome.Read(newestCommit), List.copyOf(repairs));
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
            proposal = inFlight.reproposed(ballot); // the write keeps its version
            return beginAccept(Phase.REPAIR_ACCEPT, repairs);
        }
        settled = newestCommit;
        if (op instanceof Op.Read) {
            phase = Phase.DONE;
            return new Step.Done(new Outcome.Read(newestCommit), repairs);
        }
        Op.Write w = (Op.Write) op;
        WriteOutcome refused = new Mutation(key, w.value(), w.precondition()).refusal(new KeyState(null, null, newestCommit));
        if (refused != null) {
            phase = Phase.DONE;
            return new Step.Done(refused instanceof WriteOutcome.PreconditionFailed f
                    ? new Outcome.PreconditionFailed(f.current()) : new Outcome.NotFound(), repairs);
        }
        proposal = new Proposal(ballot, w.value());
        return beginAccept(Phase.ACCEPT, repairs);
    }

    private Step beginAccept(Phase next, List<Envelope> repairs) {
        beginPhase(next);
        return new Step.Send(toAll(r -> new PaxosMessage.Propose(key, proposal)), List.copyOf(repairs));
    }

    private void beginPhase(Phase next) {
        phase = next;
        replied.clear();
        ackers.clear();
        rejected = 0;
        silent = 0;
        highestRejection = null;
    }

    private static List<String> sorted(Set<String> s) {
        return List.copyOf(new java.util.TreeSet<>(s));
    }

    private List<Envelope> toAll(Function<String, PaxosMessage.Request> make) {
        List<Envelope> out = new ArrayList<>(replicas.size());
        for (String r : replicas) {
            out.add(new Envelope(r, make.apply(r)));
        }
        return List.copyOf(out);
    }
}
