package io.nimbus.core.coordinator;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.BallotClock;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.paxos.Proposer;

import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * One client request as its coordinator runs it, as a pure state machine: the coordinator's whole
 * policy apart from I/O. The shell (a node's {@code Coordinator}, or the simulator) sends what
 * {@link Effect.Send} lists and feeds back each reply ({@link #onReply}) or silence ({@link #onNoReply}),
 * wakes it at {@link Effect.Wake} times, learns a newer topology on {@link Effect.Refresh} and hands
 * the new route back ({@link #onRoute}), and calls {@link #onDeadline} when the request's time is up.
 * It ends with exactly one {@link Effect.Done}.
 *
 * <ul>
 *   <li><b>QUORUM / ALL</b>: a {@link Proposer} over the route's reachable replicas and its quorum. A write
 *       whose coordinator holds a term on the key ({@link Terms}) skips the prepare in its first attempt (docs/PAXOS.md
 *       "One round trip"); an attempt that ends holding a term leaves it there for the next write. A
 *       rival ballot restarts it after a randomized backoff ({@link RetryPolicy}), at most
 *       {@code attemptsMax} attempts; a replica's fence saying the route's epoch is outdated (and
 *       nothing of this request written) makes it learn the newer topology and start over with the new
 *       route. Late promises after the answer earn repairs.</li>
 *   <li><b>ONE</b>: a read asks the reachable replicas one at a time; a write is judged against one
 *       replica's state (only when it has a precondition or deletes), then committed under a fresh
 *       ballot above that state to every reachable replica and acknowledged by the first (last writer
 *       wins by ballot). While a topology operation moves the key, the acknowledgement needs one natural
 *       replica, every pending one, and one that stays in the key's set: a replica the operation takes
 *       the key from may already have been streamed, and when the set only shrinks (a decommission or
 *       removal below the replication factor) no pending replica would otherwise carry the write on.</li>
 * </ul>
 */
public final class Coordination {

    /** What the client asked for. */
    public sealed interface Request {
        record Read() implements Request {
        }

        record Write(Mutation mutation) implements Request {
        }
    }

    /** What the shell must do. */
    public sealed interface Effect {
        /** Send {@code envelope} under {@code epoch}; feed its reply back unless it is a fire-and-forget repair. */
        record Send(Proposer.Envelope envelope, long epoch, boolean repair) implements Effect {
        }

        /** Call {@link #onWake} at (or after) {@code atMs}. */
        record Wake(long atMs) implements Effect {
        }

        /** Learn a topology of at least {@code epoch}, route the request again and call {@link #onRoute}. */
        record Refresh(long epoch) implements Effect {
        }

        record Done(Result result) implements Effect {
        }
    }

    /** Why a replica gave no reply ({@link #onNoReply(Proposer.Envelope, long, NoReply)}). */
    public enum NoReply {
        /** Asked, and no answer in time (or the connection failed). */
        SILENT,
        /** Not asked: the shell holds the replica as failing (its circuit breaker is open after recent failures). */
        FAILING,
        /** Not asked: the shell already has as many requests in flight to the replica as it allows. */
        OVERLOADED
    }

    private enum Mode { PAXOS, ONE_STATE, ONE_COMMIT }

    private final String key;
    private final Request request;
    private final ConsistencyLevel level;
    private final RetryPolicy policy;
    private final BallotSource ballots;
    private final RandomGenerator random;
    private final long deadlineMs;
    private final Terms terms;
    private Routing.Route route;
    /** {@link #readable()} of {@code readableOf} (computed once per route, not per reply). */
    private List<io.nimbus.core.topology.Replica> readable;
    private Routing.Route readableOf;
    private Proposer proposer;
    private Mode mode;
    private int attempts;
    private boolean done;
    private boolean answered;
    /** A pending restart: the rival ballot to go above (null: none seen). */
    private Ballot restartAbove;
    /** This request's write in a term, partly accepted: every later attempt settles it first (null: none). */
    private Proposer.Recovery recovery;
    private boolean restartPending;
    /** ONE: which reachable replica is asked for the state, and the ONE write's proposal and failures. */
    private int oneIndex;
    private long oneFencedEpoch;
    private Proposal oneProposal;
    private int oneFailures;
    private boolean oneNaturalAcked;
    /** ONE: a replica that stays in the key's set (not leaving it) confirmed; how many of those failed. */
    private boolean oneStayingAcked;
    private int oneStayingFailures;
    private final java.util.Set<String> onePendingAcked = new java.util.HashSet<>();
    private String lastWhy = "no answer";
    /** Replicas this request could not ask, and why (they count as silent; named in an unavailable ending). */
    private final java.util.Set<String> notAskedFailing = new java.util.TreeSet<>();
    private final java.util.Set<String> notAskedOverloaded = new java.util.TreeSet<>();
    /** The time of the input being handled. */
    private long now;

    /** A coordination that holds no terms: every Paxos write prepares. */
    public Coordination(String key, Request request, ConsistencyLevel level, Routing.Route route, RetryPolicy policy,
                        BallotSource ballots, RandomGenerator random, long deadlineMs) {
        this(key, request, level, route, policy, ballots, random, deadlineMs, new Terms(0));
    }

    /** @param terms this coordinator's terms (shared by all its coordinations; see {@link Terms}) */
    public Coordination(String key, Request request, ConsistencyLevel level, Routing.Route route, RetryPolicy policy,
                        BallotSource ballots, RandomGenerator random, long deadlineMs, Terms terms) {
        this.terms = java.util.Objects.requireNonNull(terms, "terms");
        this.key = key;
        this.request = request;
        this.level = level;
        this.route = route;
        this.policy = policy;
        this.ballots = ballots;
        this.random = random;
        this.deadlineMs = deadlineMs;
    }

    public String key() {
        return key;
    }

    public Request request() {
        return request;
    }

    public Routing.Route route() {
        return route;
    }

    public long deadlineMs() {
        return deadlineMs;
    }

    public boolean isDone() {
        return done;
    }

    /** The running Paxos attempt's proposer (null at ONE), for observers such as the simulator's ghost checks. */
    public Proposer proposer() {
        return proposer;
    }

    public int attempts() {
        return attempts;
    }

    private boolean isWrite() {
        return request instanceof Request.Write;
    }

    public List<Effect> start(long nowMs) {
        now = nowMs;
        if (done) {
            return List.of(); // the deadline came first
        }
        if (mode != null) {
            throw new IllegalStateException("already started");
        }
        return begin(null);
    }

    /** A fresh attempt on the current route (the first, or after a refresh). */
    private List<Effect> begin(Ballot above) {
        attempts++;
        if (level == ConsistencyLevel.ONE) {
            oneIndex = 0;
            oneFailures = 0;
            oneFencedEpoch = 0;
            Mutation m = request instanceof Request.Write w ? w.mutation() : null;
            if (m != null) {
                terms.drop(key); // its commit under a fresh ballot raises the replicas' promises past any term
            }
            if (m != null && !m.isDelete() && m.precondition().equals(io.nimbus.core.kv.Precondition.NONE)) {
                return commitOne(null);
            }
            mode = Mode.ONE_STATE;
            return List.of(askState());
        }
        mode = Mode.PAXOS;
        Proposer.Term term = isWrite() && recovery == null ? terms.take(key, route.epoch()) : null;
        if (term != null) {
            Ballot version = fresh(maxOf(above, maxOf(term.ballot(), term.last() == null ? null : term.last().version())));
            if (version == null) {
                return exhausted();
            }
            proposer = new Proposer(key, paxosOp(), route.askedNames(), route.quorum());
            java.util.Set<String> later = terms.self() != null && route.askedNames().contains(terms.self())
                    ? java.util.Set.of(terms.self()) : java.util.Set.of();
            Proposer.Step first = proposer.startInTerm(term, version, later);
            if (first != null) {
                return translate(first);
            }
            above = maxOf(above, version); // its precondition fails on the term's last write: a full attempt decides
        }
        Ballot b = fresh(above);
        if (b == null) {
            return exhausted();
        }
        proposer = newProposer();
        return translate(proposer.start(b));
    }

    /** A proposer for the next attempt on the current route, given what it must settle first. */
    private Proposer newProposer() {
        Proposer p = new Proposer(key, paxosOp(), route.askedNames(), route.quorum());
        if (recovery != null) {
            p.recovering(recovery);
        }
        return p;
    }

    /**
     * Whether an attempt of this request wrote in a term and was partly accepted: it is settled by the next attempts,
     * and until then any ending but an answer leaves the outcome unknown. For observers such as the simulator.
     */
    public boolean recovering() {
        return recovery != null;
    }

    /** A ballot from this node's source, or null if none is left ({@link BallotClock.ExhaustedException}: see {@link #exhausted}). */
    private Ballot fresh(Ballot above) {
        try {
            return ballots.next(above);
        } catch (BallotClock.ExhaustedException e) {
            lastWhy = e.getMessage();
            return null;
        }
    }

    /** This node cannot issue a ballot any more: another coordinator can still serve the request. */
    private List<Effect> exhausted() {
        return finish(new Result.Unavailable("this node cannot coordinate: " + lastWhy + nothingWritten()));
    }

    private Proposer.Op paxosOp() {
        return request instanceof Request.Write w
                ? new Proposer.Op.Write(w.mutation().value(), w.mutation().precondition()) : new Proposer.Op.Read();
    }

    public List<Effect> onReply(Proposer.Envelope envelope, PaxosMessage reply, long nowMs) {
        now = nowMs;
        if (done) {
            if (answered && proposer != null) {
                return repairs(proposer.lateRepairs(envelope, reply));
            }
            return List.of();
        }
        return switch (mode) {
            case PAXOS -> translate(proposer.onReply(envelope, reply));
            case ONE_STATE -> oneState(envelope, reply);
            case ONE_COMMIT -> oneCommitted(envelope, reply);
        };
    }

    public List<Effect> onNoReply(Proposer.Envelope envelope, long nowMs) {
        return onNoReply(envelope, nowMs, NoReply.SILENT);
    }

    /**
     * {@code envelope} got no reply, for reason {@code why}: to the protocol every reason is a silence; the
     * reasons only shape the ending's explanation (and an ending that lacked replicas refused for load is
     * {@link Result.Overloaded}).
     */
    public List<Effect> onNoReply(Proposer.Envelope envelope, long nowMs, NoReply why) {
        now = nowMs;
        if (!done && why == NoReply.FAILING) {
            notAskedFailing.add(envelope.to());
        } else if (!done && why == NoReply.OVERLOADED) {
            notAskedOverloaded.add(envelope.to());
        }
        if (done) {
            return List.of();
        }
        return switch (mode) {
            case PAXOS -> translate(proposer.onNoReply(envelope));
            case ONE_STATE -> oneState(envelope, null);
            case ONE_COMMIT -> oneCommitted(envelope, null);
        };
    }

    /** A backoff ended: start the next attempt. */
    public List<Effect> onWake(long nowMs) {
        now = nowMs;
        if (done || !restartPending) {
            return List.of();
        }
        restartPending = false;
        if (nowMs >= deadlineMs) {
            return finish(new Result.TimedOut("out of time after " + attempts + " attempt(s) pre-empted by competing "
                    + "requests on the same key" + nothingWritten()));
        }
        Ballot b = fresh(maxOf(restartAbove, proposer.ballot()));
        if (b == null) {
            return exhausted();
        }
        proposer = newProposer();
        attempts++;
        return translate(proposer.start(b));
    }

    /** The request placed again after a {@link Effect.Refresh}. */
    public List<Effect> onRoute(Routing.Routed routed, long nowMs) {
        now = nowMs;
        if (done) {
            return List.of();
        }
        if (routed instanceof Routing.Refused r) {
            return finish(r.result());
        }
        Ballot above = proposer == null ? null : proposer.ballot();
        route = (Routing.Route) routed;
        return begin(above);
    }

    /** The request's time is up. */
    public List<Effect> onDeadline(long nowMs) {
        now = nowMs;
        if (done) {
            return List.of();
        }
        boolean mayHaveWritten = isWrite() && (mode == Mode.ONE_COMMIT || (mode == Mode.PAXOS && (recovery != null || proposer.mayHaveWritten())));
        return finish(mayHaveWritten ? new Result.OutcomeUnknown("the write was not confirmed by its consistency level "
                + "in time; it may still apply")
                : new Result.TimedOut("the request did not reach its consistency level in time" + nothingWritten()));
    }

    // ---- QUORUM and ALL ----------------------------------------------------------------------------

    private List<Effect> translate(Proposer.Step step) {
        if (step instanceof Proposer.Step.Waiting) {
            return List.of();
        }
        if (step instanceof Proposer.Step.Send s) {
            List<Effect> out = new ArrayList<>(s.messages().size() + s.repairs().size());
            out.addAll(repairs(s.repairs()));
            for (Proposer.Envelope e : s.messages()) {
                out.add(new Effect.Send(e, route.epoch(), false));
            }
            return out;
        }
        if (step instanceof Proposer.Step.Done d) {
            List<Effect> out = new ArrayList<>(repairs(d.repairs()));
            Proposer.Term term = proposer.term();
            if (term != null) {
                terms.put(key, route.epoch(), term);
            }
            answered = true;
            out.addAll(finish(result(d.outcome())));
            return out;
        }
        if (step instanceof Proposer.Step.Restart r) {
            if (r.recovery() != null) {
                recovery = r.recovery(); // before anything else: a refreshed route's attempts must settle it too
            }
            if (proposer.fencedEpoch() > route.epoch() && attempts < policy.attemptsMax()) {
                return List.of(new Effect.Refresh(proposer.fencedEpoch()));
            }
            if (attempts >= policy.attemptsMax()) {
                return finish(new Result.TimedOut("gave up after " + attempts + " attempts pre-empted by competing "
                        + "requests on the same key" + (proposer.fencedEpoch() > 0 ? " or refused by replicas' fences" : "")
                        + nothingWritten()));
            }
            restartAbove = r.seen();
            restartPending = true;
            return List.of(new Effect.Wake(now + policy.backoffMs(attempts, random)));
        }
        Proposer.Step.Failed f = (Proposer.Step.Failed) step;
        if (f.outcomeUnknown()) {
            return finish(new Result.OutcomeUnknown(f.why()));
        }
        if (proposer.fencedEpoch() > route.epoch() && attempts < policy.attemptsMax()) {
            return List.of(new Effect.Refresh(proposer.fencedEpoch()));
        }
        return finish(new Result.Unavailable(f.why() + " (replicas asked: " + route.askedNames() + ")" + nothingWritten()));
    }

    private static Result result(Proposer.Outcome o) {
        if (o instanceof Proposer.Outcome.Read r) {
            return new Result.Read(r.committed());
        }
        if (o instanceof Proposer.Outcome.Written w) {
            return new Result.Written(w.version());
        }
        if (o instanceof Proposer.Outcome.PreconditionFailed p) {
            return new Result.PreconditionFailed(p.current());
        }
        return new Result.NotFound();
    }

    // ---- ONE -----------------------------------------------------------------------------------------

    /** The replicas a ONE read may ask: the reachable natural ones (a pending replica holds nothing until streamed). */
    private List<io.nimbus.core.topology.Replica> readable() {
        if (readable == null || readableOf != route) {
            List<io.nimbus.core.topology.Replica> out = new ArrayList<>(route.asked().size());
            for (var r : route.asked()) {
                if (!route.isPending(r.name())) {
                    out.add(r);
                }
            }
            readable = out;
            readableOf = route;
        }
        return readable;
    }

    private Effect askState() {
        return new Effect.Send(new Proposer.Envelope(readable().get(oneIndex).name(), new PaxosMessage.ReadCommitted(key)),
                route.epoch(), false);
    }

    private List<Effect> oneState(Proposer.Envelope envelope, PaxosMessage reply) {
        if (!(envelope.request() instanceof PaxosMessage.ReadCommitted) || oneIndex >= readable().size()
                || !envelope.to().equals(readable().get(oneIndex).name())) {
            return List.of(); // a stray or duplicated reply
        }
        if (reply instanceof PaxosMessage.State s) {
            if (request instanceof Request.Read) {
                answered = true;
                return finish(new Result.Read(s.state().committed()));
            }
            Mutation m = ((Request.Write) request).mutation();
            WriteOutcome refused = m.refusal(new KeyState(null, null, s.state().committed()));
            if (refused instanceof WriteOutcome.PreconditionFailed p) {
                return finish(new Result.PreconditionFailed(p.current()));
            }
            if (refused != null) {
                return finish(new Result.NotFound());
            }
            return commitOne(s.state().committed() == null ? null : s.state().committed().ballot());
        }
        if (reply instanceof PaxosMessage.Fenced f) {
            oneFencedEpoch = Math.max(oneFencedEpoch, f.epoch());
        }
        lastWhy = reply == null ? "no answer from " + envelope.to() : envelope.to() + " answered " + reply;
        if (++oneIndex < readable().size()) {
            return List.of(askState());
        }
        if (oneFencedEpoch > route.epoch() && attempts < policy.attemptsMax()) {
            return List.of(new Effect.Refresh(oneFencedEpoch));
        }
        return finish(new Result.Unavailable("no replica of the key answered at ONE (asked " + route.askedNames()
                + "; last: " + lastWhy + ")" + nothingWritten()));
    }

    private List<Effect> commitOne(Ballot above) {
        Ballot b = fresh(above);
        if (b == null) {
            return exhausted();
        }
        for (String p : route.pending()) {
            if (route.askedNames().stream().noneMatch(p::equals)) {
                return finish(new Result.Unavailable("a write at ONE must reach the pending replica " + p + " (a topology "
                        + "operation is adding it to the key's replicas), and it is unreachable; nothing was written"));
            }
        }
        boolean staying = false;
        for (var r : route.asked()) {
            staying |= !route.isLeaving(r.name());
        }
        if (!staying) {
            return finish(new Result.Unavailable("a write at ONE must reach a replica that stays in the key's set, and "
                    + "only " + route.leaving() + ", which a topology operation takes the key from, are reachable; "
                    + "nothing was written"));
        }
        mode = Mode.ONE_COMMIT;
        oneFailures = 0;
        oneNaturalAcked = false;
        oneStayingAcked = false;
        oneStayingFailures = 0;
        onePendingAcked.clear();
        oneProposal = new Proposal(b, ((Request.Write) request).mutation().value());
        List<Effect> out = new ArrayList<>(route.asked().size());
        for (var r : route.asked()) {
            out.add(new Effect.Send(new Proposer.Envelope(r.name(), new PaxosMessage.Commit(key, oneProposal)),
                    route.epoch(), false));
        }
        return out;
    }

    private List<Effect> oneCommitted(Proposer.Envelope envelope, PaxosMessage reply) {
        if (!(envelope.request() instanceof PaxosMessage.Commit c) || !c.proposal().equals(oneProposal)) {
            return List.of();
        }
        if (reply instanceof PaxosMessage.Committed) {
            // Cassandra's blockFor: one natural replica, and every pending one (else a join's stream may already
            // have passed the key, and the write would be on no replica of the new set)
            if (route.isPending(envelope.to())) {
                onePendingAcked.add(envelope.to());
            } else {
                oneNaturalAcked = true;
            }
            oneStayingAcked |= !route.isLeaving(envelope.to());
            if (oneNaturalAcked && oneStayingAcked && onePendingAcked.size() == route.pending().size()) {
                answered = true;
                return finish(new Result.Written(oneProposal.ballot()));
            }
            return List.of();
        }
        lastWhy = reply == null ? "no answer from " + envelope.to() : envelope.to() + " answered " + reply;
        if (route.isPending(envelope.to())) {
            return finish(new Result.OutcomeUnknown("the pending replica " + envelope.to() + " did not confirm the write "
                    + "at ONE (" + lastWhy + ")"));
        }
        if (++oneFailures == route.asked().size() - route.pending().size()) {
            return finish(new Result.OutcomeUnknown("no replica confirmed the write at ONE (asked " + route.askedNames()
                    + "; last: " + lastWhy + ")"));
        }
        if (!route.isLeaving(envelope.to()) && ++oneStayingFailures == stayingAsked()) {
            return finish(new Result.OutcomeUnknown("no replica that stays in the key's set confirmed the write at ONE "
                    + "(a topology operation takes the key from " + route.leaving() + "; last: " + lastWhy + ")"));
        }
        return List.of();
    }

    /** The asked replicas that stay in the key's set (pending ones included). */
    private int stayingAsked() {
        int n = 0;
        for (var r : route.asked()) {
            n += route.isLeaving(r.name()) ? 0 : 1;
        }
        return n;
    }

    // ---- endings -------------------------------------------------------------------------------------

    private List<Effect> finish(Result r) {
        done = true;
        if (recovery != null && !(r instanceof Result.Read || r instanceof Result.Written || r instanceof Result.PreconditionFailed
                || r instanceof Result.NotFound || r instanceof Result.OutcomeUnknown)) {
            String why = r instanceof Result.Unavailable u ? u.why() : r instanceof Result.TimedOut t ? t.why()
                    : r instanceof Result.Overloaded o ? o.why() : r instanceof Result.NotReady n ? n.why()
                    : r instanceof Result.NotEnoughReplicas e ? e.why() : r.toString();
            r = new Result.OutcomeUnknown(why + "; an earlier attempt's write was accepted by some replicas before a "
                    + "rival took the key over, and may still take effect");
        }
        if (r instanceof Result.Unavailable u && !notAskedOverloaded.isEmpty()) {
            r = new Result.Overloaded(List.copyOf(notAskedOverloaded), u.why() + notAsked());
        } else if (r instanceof Result.Unavailable u) {
            r = new Result.Unavailable(u.why() + notAsked());
        } else if (r instanceof Result.TimedOut t) {
            r = new Result.TimedOut(t.why() + notAsked());
        } else if (r instanceof Result.OutcomeUnknown o) {
            r = new Result.OutcomeUnknown(o.why() + notAsked());
        }
        return List.of(new Effect.Done(r));
    }

    /** The replicas this request did not ask, and why ("" if it asked all it meant to). */
    private String notAsked() {
        StringBuilder b = new StringBuilder();
        if (!notAskedOverloaded.isEmpty()) {
            b.append("; not asked, too many requests already in flight to them from this node: ").append(notAskedOverloaded);
        }
        if (!notAskedFailing.isEmpty()) {
            b.append("; not asked, their circuit breaker is open after recent failures: ").append(notAskedFailing);
        }
        return b.toString();
    }

    private List<Effect> repairs(List<Proposer.Envelope> envelopes) {
        List<Effect> out = new ArrayList<>(envelopes.size());
        for (Proposer.Envelope e : envelopes) {
            out.add(new Effect.Send(e, route.epoch(), true));
        }
        return out;
    }

    private String nothingWritten() {
        return isWrite() && recovery == null ? "; nothing was written" : "";
    }

    private static Ballot maxOf(Ballot a, Ballot b) {
        return a == null ? b : b == null || a.compareTo(b) > 0 ? a : b;
    }
}
