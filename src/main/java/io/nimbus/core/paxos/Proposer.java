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
 * <p>A write in its coordinator's term ({@link #startInTerm}) skips the prepare: it is proposed at once under the
 * ballot the coordinator's last round on the key prepared (docs/PAXOS.md "One round trip"). If a replica that had
 * not heard of a rival took it while others refused it, the next attempt settles its fate first ({@link #recovering}).
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

    /**
     * A write in a term that some replicas accepted and others refused (a rival promised a higher ballot):
     * {@code own} is its proposal (under the term's ballot), {@code base} the write it was judged against (the term's
     * last). See {@link #recovering}.
     */
    public record Recovery(Proposal own, Proposal base) {
        public Recovery {
            java.util.Objects.requireNonNull(own, "own");
        }
    }

    /**
     * What a finished attempt leaves its coordinator (docs/PAXOS.md "One round trip"): {@code ballot} was promised
     * by a quorum and nothing else was proposed under it but by this coordinator, and {@code last} (null: never
     * written) is the newest write chosen as of that promise or since under the ballot. The coordinator's next
     * write to the key may skip the prepare: {@link #startInTerm}.
     */
    public record Term(Ballot ballot, Proposal last) {
        public Term {
            java.util.Objects.requireNonNull(ballot, "ballot");
        }
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
         * finished). Nothing of this operation was written — unless {@code recovery} is set: then its write in a
         * term was accepted by some replicas and refused by others, and every later attempt must be given it
         * ({@link #recovering}).
         */
        record Restart(Ballot seen, Recovery recovery) implements Step {
            public Restart(Ballot seen) {
                this(seen, null);
            }
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
    /** Whether the attempt ended with {@link Step.Done}. */
    private boolean settledDone;
    /** The highest topology epoch a replica's fence reported (0: none fenced this operation). */
    private long fencedEpoch;
    /** Whether this attempt's ballot was promised by a quorum and only this operation's own value proposed under it. */
    private boolean ownsTerm;
    /** The term this proposer's write was proposed in, skipping the prepare (null: it prepared). */
    private Term startedIn;
    /** An earlier attempt's write in a term, partly accepted, whose fate this attempt must settle first (null: none). */
    private Recovery recovery;
    /** A write in a term: replicas asked only once another accepted it (not yet asked while non-empty). */
    private Set<String> deferred = Set.of();

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
        return phase == Phase.ACCEPT || recovery != null && !settledDone;
    }

    /** True while this operation's own value is proposed and not yet accepted by a quorum: for observers such as the simulator. */
    public boolean proposesOwn() {
        return phase == Phase.ACCEPT;
    }

    /**
     * Before {@link #start}: an earlier attempt of this operation wrote in a term and was partly accepted
     * ({@link Step.Restart#recovery}). Its proposal can be chosen only through a re-proposal by whoever prepares the
     * key next, so this attempt's prepare settles it (docs/PAXOS.md "One round trip"): if a promise shows the
     * write (accepted or committed), it is finished as this operation's own and answered with its version; if the
     * promises show nothing newer than its base but itself, it was not chosen and never will be once anything newer
     * is, and the attempt goes on as a fresh one; if they show another write newer than its base, the two cannot be
     * told apart from a write made on top of it: the outcome is unknown.
     */
    public void recovering(Recovery r) {
        if (phase != Phase.IDLE || ballot != null) {
            throw new IllegalStateException("recovery is given before the attempt starts");
        }
        if (!(op instanceof Op.Write)) {
            throw new IllegalStateException("only a write recovers");
        }
        recovery = r;
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
        ownsTerm = false;
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

    /**
     * A write in this coordinator's {@code term}, skipping the prepare (docs/PAXOS.md "One round trip"): the
     * precondition is judged against the term's last write and the value is proposed at once under the term's
     * ballot with {@code version} (a fresh ballot of this coordinator). An acceptor takes it only if it promised
     * nothing above the term since. Everything after the proposal is as in {@link #start}'s accept phase: chosen
     * once a quorum accepted it; refused by every replica asked (another coordinator took the key over), a
     * {@link Step.Restart} with nothing written; otherwise {@link Step.Failed} with the outcome unknown.
     *
     * @return null if the term cannot serve this operation (not a write, or its precondition does not hold on
     * the term's last write, which may be stale: only a full attempt can refuse it); then use {@link #start}
     */
    public Step startInTerm(Term term, Ballot version) {
        return startInTerm(term, version, Set.of());
    }

    /**
     * As {@link #startInTerm(Term, Ballot)}, asking the replicas in {@code later} only once another replica accepted the
     * write. The coordinator's own replica goes last: when a rival took the key over, the replica most likely not to
     * have heard of it yet is the one the term's staleness was checked against; asked last, it is never asked when the
     * others refuse (a clean restart, nothing written, instead of a write that one replica took).
     */
    public Step startInTerm(Term term, Ballot version, Set<String> later) {
        if (phase != Phase.IDLE || ballot != null) {
            throw new IllegalStateException("a write in a term is the first attempt of its proposer");
        }
        if (term.last() != null && version.compareTo(term.last().version()) <= 0) {
            throw new IllegalArgumentException("version " + version + " is not above the term's last write's " + term.last().version());
        }
        if (!(op instanceof Op.Write w)
                || new Mutation(key, w.value(), w.precondition()).refusal(new KeyState(null, null, term.last())) != null) {
            return null;
        }
        ballot = term.ballot();
        proposal = Proposal.inTerm(term.ballot(), version, w.value());
        ownsTerm = true;
        startedIn = term;
        Set<String> first = new HashSet<>(replicas);
        first.removeAll(later);
        beginPhase(Phase.ACCEPT);
        if (first.isEmpty() || first.size() == replicas.size()) {
            return new Step.Send(toAll(r -> new PaxosMessage.Propose(key, proposal)), List.of());
        }
        Set<String> deferNow = new HashSet<>(replicas);
        deferNow.removeAll(first);
        deferred = deferNow;
        return new Step.Send(to(first, r -> new PaxosMessage.Propose(key, proposal)), List.of());
    }

    /**
     * After {@link Step.Done}: the term this coordinator holds on the key, or null if it holds none (the attempt
     * did not prepare its own ballot on a quorum, or it finished another write under it, or it did not finish).
     */
    public Term term() {
        return phase == Phase.DONE && ownsTerm && settledDone ? new Term(ballot, settled) : null;
    }

    /** The term this write was proposed in without a prepare ({@link #startInTerm}), or null: for observers such as the simulator. */
    public Term startedIn() {
        return startedIn;
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
                if (!quorum.satisfiedBy(ackers) && !deferred.isEmpty() && quorum.satisfiableWith(possible())) {
                    Set<String> now = deferred;
                    deferred = Set.of();
                    return new Step.Send(to(now, r -> new PaxosMessage.Propose(key, proposal)), List.of());
                }
                if (!quorum.satisfiedBy(ackers)) {
                    return settle(); // after refusals this may have been the last answer
                }
                if (phase == Phase.ACCEPT) {
                    // Chosen: a quorum accepted it under one ballot, and every later prepare quorum meets this one.
                    // The client is answered now; the commits go to every replica without being waited for.
                    phase = Phase.DONE;
                    settled = proposal;
                    settledDone = true;
                    return new Step.Done(new Outcome.Written(proposal.version()), toAll(r -> new PaxosMessage.Commit(key, proposal)));
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
                return new Step.Restart(null, recovery);
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
        if (!settled.isAfter(committed)) {
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
            case ACCEPT, REPAIR_ACCEPT -> r instanceof PaxosMessage.Propose p && p.proposal().ballot().equals(ballot)
                    && p.proposal().version().equals(proposal.version());
            case REPAIR_COMMIT -> r instanceof PaxosMessage.Commit c && c.proposal().ballot().equals(ballot);
            default -> false;
        };
    }

    /** After a refusal or a silence: can the phase still reach a quorum? If not, how does it end? */
    private Step settle() {
        Set<String> possible = possible();
        int outstanding = replicas.size() - replied.size() - deferred.size(); // sent and not answered
        if (!deferred.isEmpty() && outstanding == 0 && ackers.isEmpty()) {
            // every replica asked refused or was silent: the deferred ones were never asked
            possible.removeAll(deferred);
        }
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
            if (rejected == replicas.size() - deferred.size() && recovery == null) {
                return new Step.Restart(highestRejection); // every replica refused it: nothing was written
            }
            if (startedIn != null && rejected > 0) {
                // a write in a stale term, taken by replicas that had not heard of the rival yet: settle it by a prepare
                return new Step.Restart(highestRejection, new Recovery(proposal, startedIn.last()));
            }
            phase = Phase.DONE;
            return new Step.Failed(true, "the write was proposed but "
                    + (rejected > 0 ? "a competing write took over" : "too few replicas answered")
                    + " before a quorum accepted it (accepted by " + sorted(ackers) + "; needed: " + quorum.describe() + ")");
        }
        if (rejected > 0) {
            return new Step.Restart(highestRejection, recovery);
        }
        phase = Phase.DONE;
        return new Step.Failed(recovery != null, "only " + sorted(ackers) + " of " + replicas + " answered "
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
            if (s.committed() != null && s.committed().isAfter(newestCommit)) {
                newestCommit = s.committed();
            }
        }
        for (KeyState s : states) {
            if (s.accepted() != null && s.accepted().isAfter(newestCommit)) {
                return prepare();
            }
        }
        List<Envelope> repairs = new ArrayList<>();
        if (newestCommit != null) {
            for (int i = 0; i < states.size(); i++) {
                Proposal c = states.get(i).committed();
                if (newestCommit.isAfter(c)) {
                    repairs.add(new Envelope(stateReporters.get(i), new PaxosMessage.Commit(key, newestCommit)));
                }
            }
        }
        settled = newestCommit;
        settledDone = true;
        phase = Phase.DONE;
        return new Step.Done(new Outcome.Read(newestCommit), List.copyOf(repairs));
    }

    private Step decide() {
        if (recovery != null) {
            Step settledRecovery = settleRecovery();
            if (settledRecovery != null) {
                return settledRecovery;
            }
        }
        Proposal newestCommit = null;
        for (PaxosMessage.Promised p : promises) {
            if (p.committed() != null && p.committed().isAfter(newestCommit)) {
                newestCommit = p.committed();
            }
        }
        Proposal inFlight = null;
        for (PaxosMessage.Promised p : promises) {
            Proposal a = p.accepted();
            if (a != null && a.isAfter(newestCommit) && a.isAfter(inFlight)) {
                inFlight = a;
            }
        }
        List<Envelope> repairs = new ArrayList<>();
        if (newestCommit != null) {
            for (int i = 0; i < promises.size(); i++) {
                Proposal c = promises.get(i).committed();
                if (newestCommit.isAfter(c)) {
                    repairs.add(new Envelope(promisers.get(i), new PaxosMessage.Commit(key, newestCommit)));
                }
            }
        }
        if (inFlight != null) {
            proposal = inFlight.reproposed(ballot); // the write keeps its version
            return beginAccept(Phase.REPAIR_ACCEPT, repairs);
        }
        settled = newestCommit;
        ownsTerm = true; // a quorum promised this ballot and nothing is proposed under it but by this attempt
        if (op instanceof Op.Read) {
            phase = Phase.DONE;
            settledDone = true;
            return new Step.Done(new Outcome.Read(newestCommit), repairs);
        }
        Op.Write w = (Op.Write) op;
        WriteOutcome refused = new Mutation(key, w.value(), w.precondition()).refusal(new KeyState(null, null, newestCommit));
        if (refused != null) {
            phase = Phase.DONE;
            settledDone = true;
            return new Step.Done(refused instanceof WriteOutcome.PreconditionFailed f
                    ? new Outcome.PreconditionFailed(f.current()) : new Outcome.NotFound(), repairs);
        }
        Ballot newestVersion = newestVersion();
        if (newestVersion != null && ballot.compareTo(newestVersion) <= 0) {
            // a version is a write's name: a new one must be above every version the key has, or two writes could
            // share one (a term write's version is above its ballot, and this ballot's clock may be behind it)
            phase = Phase.IDLE;
            return new Step.Restart(newestVersion, recovery);
        }
        proposal = new Proposal(ballot, w.value());
        return beginAccept(Phase.ACCEPT, repairs);
    }

    /** The replicas that may still say yes in the running phase: those that did and those yet to answer. */
    private Set<String> possible() {
        Set<String> possible = new HashSet<>(ackers);
        for (String r : replicas) {
            if (!replied.contains(r)) {
                possible.add(r);
            }
        }
        return possible;
    }

    /** The highest version any promise of this attempt reports, accepted or committed (null: none). */
    private Ballot newestVersion() {
        Ballot out = null;
        for (PaxosMessage.Promised p : promises) {
            for (Proposal x : new Proposal[] {p.accepted(), p.committed()}) {
                if (x != null && (out == null || x.version().compareTo(out) > 0)) {
                    out = x.version();
                }
            }
        }
        return out;
    }

    /**
     * The promises of a recovering attempt ({@link #recovering}): null to go on as a fresh attempt (the earlier write
     * was not chosen), else how it ends or goes on.
     */
    private Step settleRecovery() {
        Ballot version = recovery.own().version();
        Proposal ownNewest = null;
        Proposal newestOther = null;
        for (PaxosMessage.Promised p : promises) {
            for (Proposal x : new Proposal[] {p.accepted(), p.committed()}) {
                if (x == null) {
                    continue;
                }
                if (x.version().equals(version)) {
                    ownNewest = x.isAfter(ownNewest) ? x : ownNewest;
                } else if (recovery.base() != null && x.version().equals(recovery.base().version())) {
                    continue; // the base itself, perhaps finished under a higher ballot by an earlier attempt: not newer
                } else if (x.isAfter(newestOther)) {
                    newestOther = x;
                }
            }
        }
        // a write made on top of this one is under a ballot above the term's: its finisher prepared above a promise of
        // at least the term's ballot (an acceptor that took this write), and every write after that is higher still
        boolean mayDescend = newestOther != null && newestOther.isAfter(recovery.base())
                && newestOther.ballot().compareTo(recovery.own().ballot()) > 0;
        if (mayDescend && (ownNewest == null || newestOther.isAfter(ownNewest))) {
            phase = Phase.DONE;
            return new Step.Failed(true, "the write was proposed in this coordinator's term but a competing write took "
                    + "over before a quorum accepted it, and another write has been made since: whether this one took "
                    + "effect is unknown");
        }
        if (ownNewest != null && (newestOther == null || ownNewest.isAfter(newestOther))) {
            // the newest write any promiser knows is this one: finish it as this operation's own (it keeps its version)
            ownsTerm = true;
            proposal = recovery.own().reproposed(ballot);
            return beginAccept(Phase.ACCEPT, List.of());
        }
        // not chosen, and it never will be once what is newer is: go on as a fresh attempt (which finishes that first)
        return null;
    }

    private Step beginAccept(Phase next, List<Envelope> repairs) {
        beginPhase(next);
        return new Step.Send(toAll(r -> new PaxosMessage.Propose(key, proposal)), List.copyOf(repairs));
    }

    private List<Envelope> to(Set<String> some, Function<String, PaxosMessage.Request> make) {
        List<Envelope> out = new ArrayList<>(some.size());
        for (String r : replicas) {
            if (some.contains(r)) {
                out.add(new Envelope(r, make.apply(r)));
            }
        }
        return List.copyOf(out);
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
