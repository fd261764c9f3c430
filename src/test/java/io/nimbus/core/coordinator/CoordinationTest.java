package io.nimbus.core.coordinator;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.paxos.Proposer;
import io.nimbus.core.paxos.Quorum;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Replica;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The coordinator's policy as a pure state machine, against in-memory acceptors: what it sends, when it
 * backs off, when it learns a newer topology and starts over, and how each ending is named.
 */
class CoordinationTest {
    static final String K = "k";
    final Map<String, KeyState> acceptors = new TreeMap<>();
    /** Replicas whose fence refuses everything, answering with this epoch. */
    final Map<String, Long> fencing = new HashMap<>();
    final Set<String> silent = new HashSet<>();
    /** Replicas the shell does not ask (their guard refuses the call), and why. */
    final Map<String, Coordination.NoReply> notAsked = new HashMap<>();
    long ballotCounter = 100;
    /** The time replies arrive at. */
    long now;
    final RetryPolicy policy = new RetryPolicy(4, 2, 32);

    CoordinationTest() {
        for (String r : List.of("a", "b", "c", "d")) {
            acceptors.put(r, KeyState.EMPTY);
        }
    }

    Ballot next(Ballot above) {
        ballotCounter = Math.max(ballotCounter + 1, above == null ? 0 : above.counter() + 1);
        return new Ballot(ballotCounter, "coord");
    }

    static Replica replica(String name) {
        return new Replica(name, new HostId(new UUID(0, name.charAt(0))));
    }

    static Routing.Route route(long epoch, String... names) {
        List<Replica> rs = new ArrayList<>();
        for (String n : names) {
            rs.add(replica(n));
        }
        return new Routing.Route(epoch, rs, rs, Quorum.majority(List.of(names)), false);
    }

    Coordination coordination(Coordination.Request req, ConsistencyLevel level, Routing.Route route) {
        return new Coordination(K, req, level, route, policy, this::next, new SplittableRandom(1), 10_000);
    }

    static Coordination.Request write(String v, Precondition p) {
        return new Coordination.Request.Write(new Mutation(K, v == null ? null : v.getBytes(), p));
    }

    /** Answers one request as the replica would (or null for silence). */
    PaxosMessage answer(Proposer.Envelope e) {
        if (silent.contains(e.to())) {
            return null;
        }
        if (fencing.containsKey(e.to())) {
            return new PaxosMessage.Fenced(fencing.get(e.to()), false);
        }
        KeyState s = acceptors.get(e.to());
        PaxosMessage.Request r = e.request();
        if (r instanceof PaxosMessage.Prepare p) {
            var t = Acceptor.prepare(s, p.ballot());
            acceptors.put(e.to(), t.next());
            return t.reply();
        }
        if (r instanceof PaxosMessage.Propose p) {
            var t = Acceptor.accept(s, p.proposal());
            acceptors.put(e.to(), t.next());
            return t.reply();
        }
        if (r instanceof PaxosMessage.Commit c) {
            acceptors.put(e.to(), Acceptor.commit(s, c.proposal()));
            return new PaxosMessage.Committed();
        }
        return new PaxosMessage.State(s);
    }

    /** Delivers every send synchronously until the coordination stops asking; returns every effect seen. */
    List<Coordination.Effect> drive(Coordination c, List<Coordination.Effect> first) {
        List<Coordination.Effect> seen = new ArrayList<>();
        Deque<Coordination.Effect> work = new ArrayDeque<>(first);
        while (!work.isEmpty()) {
            Coordination.Effect e = work.poll();
            seen.add(e);
            if (e instanceof Coordination.Effect.Send s) {
                Coordination.NoReply refused = notAsked.get(s.envelope().to());
                if (refused != null) {
                    if (!s.repair()) {
                        work.addAll(c.onNoReply(s.envelope(), now, refused));
                    }
                    continue;
                }
                PaxosMessage reply = answer(s.envelope());
                if (!s.repair()) {
                    work.addAll(reply == null ? c.onNoReply(s.envelope(), now) : c.onReply(s.envelope(), reply, now));
                }
            }
        }
        return seen;
    }

    static Result done(List<Coordination.Effect> effects) {
        for (Coordination.Effect e : effects) {
            if (e instanceof Coordination.Effect.Done d) {
                return d.result();
            }
        }
        return null;
    }

    @Test
    void aQuorumWriteIsReadBackAndItsVersionIsItsBallot() {
        Coordination w = coordination(write("v1", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        Result.Written written = assertInstanceOf(Result.Written.class, done(drive(w, w.start(0))));
        Coordination r = coordination(new Coordination.Request.Read(), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        Result.Read read = assertInstanceOf(Result.Read.class, done(drive(r, r.start(0))));
        assertArrayEquals("v1".getBytes(), read.committed().value());
        assertEquals(written.version(), read.committed().version());
    }

    @Test
    void oneReplicaRefusedForLoadDoesNotFailAQuorumAndItIsNeverAsked() {
        notAsked.put("b", Coordination.NoReply.OVERLOADED);
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        assertInstanceOf(Result.Written.class, done(drive(w, w.start(0))));
        assertEquals(KeyState.EMPTY, acceptors.get("b"));
    }

    @Test
    void aQuorumLostToLoadEndsOverloadedNamingThePeersAndNothingWritten() {
        notAsked.put("b", Coordination.NoReply.OVERLOADED);
        notAsked.put("c", Coordination.NoReply.OVERLOADED);
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        Result.Overloaded o = assertInstanceOf(Result.Overloaded.class, done(drive(w, w.start(0))));
        assertEquals(List.of("b", "c"), o.peers());
        assertTrue(o.why().contains("nothing was written") && o.why().contains("too many requests already in flight"),
                o.why());
        assertTrue(!o.outcomeUnknown());
    }

    @Test
    void aQuorumLostToSilenceAndLoadIsStillOverloadedAndNamesBoth() {
        silent.add("b");
        notAsked.put("c", Coordination.NoReply.OVERLOADED);
        Coordination r = coordination(new Coordination.Request.Read(), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        Result.Overloaded o = assertInstanceOf(Result.Overloaded.class, done(drive(r, r.start(0))));
        assertEquals(List.of("c"), o.peers());
    }

    @Test
    void aReplicaWhoseBreakerIsOpenIsNamedWhenALLCannotBeMet() {
        notAsked.put("c", Coordination.NoReply.FAILING);
        Routing.Route all = route(1, "a", "b", "c");
        all = new Routing.Route(1, all.replicas(), all.asked(), new Quorum.All(Set.of("a", "b", "c")), false);
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.ALL, all);
        Result.Unavailable u = assertInstanceOf(Result.Unavailable.class, done(drive(w, w.start(0))));
        assertTrue(u.why().contains("circuit breaker is open after recent failures: [c]"), u.why());
    }

    @Test
    void aOneReadSkipsAReplicaWhoseBreakerIsOpen() {
        notAsked.put("a", Coordination.NoReply.FAILING);
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "b", "c"));
        assertInstanceOf(Result.Written.class, done(drive(w, w.start(0))));
        Coordination r = coordination(new Coordination.Request.Read(), ConsistencyLevel.ONE, route(1, "a", "b", "c"));
        Result.Read read = assertInstanceOf(Result.Read.class, done(drive(r, r.start(0))));
        assertArrayEquals("v".getBytes(), read.committed().value());
    }

    @Test
    void everyMessageCarriesTheRoutesEpoch() {
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(7, "a", "b", "c"));
        for (Coordination.Effect e : drive(w, w.start(0))) {
            if (e instanceof Coordination.Effect.Send s) {
                assertEquals(7, s.epoch());
            }
        }
    }

    @Test
    void aRivalBallotMeansABackoffWithinThePolicyThenAHigherBallot() {
        acceptors.put("a", new KeyState(new Ballot(5_000, "rival"), null, null));
        acceptors.put("b", new KeyState(new Ballot(5_000, "rival"), null, null));
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        now = 1000;
        List<Coordination.Effect> effects = drive(w, w.start(now));
        Coordination.Effect.Wake wake = assertInstanceOf(Coordination.Effect.Wake.class, effects.get(effects.size() - 1));
        assertTrue(wake.atMs() >= 1000 && wake.atMs() <= 1000 + 4, "backoff in [0, base·2^1] after the first attempt: " + wake);
        List<Coordination.Effect> again = w.onWake(wake.atMs());
        Coordination.Effect.Send prepare = assertInstanceOf(Coordination.Effect.Send.class, again.get(0));
        Ballot b = ((PaxosMessage.Prepare) prepare.envelope().request()).ballot();
        assertTrue(b.counter() > 5_000, "above the rival's promise: " + b);
        assertInstanceOf(Result.Written.class, done(drive(w, again)));
        assertEquals(2, w.attempts());
    }

    @Test
    void pastItsAttemptsItTimesOutWithNothingWritten() {
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        List<Coordination.Effect> effects = w.start(0);
        for (int i = 0; i < 10 && done(effects) == null; i++) {
            // a rival always gets there first
            for (String r : List.of("a", "b", "c")) {
                acceptors.put(r, new KeyState(new Ballot(ballotCounter + 1000, "rival"), null, null));
            }
            effects = drive(w, effects);
            if (done(effects) == null) {
                Coordination.Effect.Wake wake = (Coordination.Effect.Wake) effects.get(effects.size() - 1);
                effects = w.onWake(wake.atMs());
            }
        }
        Result.TimedOut t = assertInstanceOf(Result.TimedOut.class, done(effects));
        assertTrue(t.why().contains("gave up after 4 attempts") && t.why().contains("nothing was written"), t.why());
    }

    @Test
    void aFenceWithANewerEpochMakesItLearnTheTopologyAndStartOverOnTheNewRoute() {
        fencing.put("a", 9L);
        fencing.put("b", 9L);
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(3, "a", "b", "c"));
        List<Coordination.Effect> effects = drive(w, w.start(0));
        assertEquals(new Coordination.Effect.Refresh(9), effects.get(effects.size() - 1));
        List<Coordination.Effect> moved = w.onRoute(route(9, "b", "c", "d"), 0);
        fencing.clear();
        List<Coordination.Effect> rest = drive(w, moved);
        for (Coordination.Effect e : rest) {
            if (e instanceof Coordination.Effect.Send s) {
                assertEquals(9, s.epoch());
                assertTrue(Set.of("b", "c", "d").contains(s.envelope().to()), "only the new route's replicas: " + s);
            }
        }
        assertInstanceOf(Result.Written.class, done(rest));
        assertEquals(KeyState.EMPTY, acceptors.get("a"), "the fenced replica kept nothing");
    }

    @Test
    void aRouteRefusedAfterARefreshEndsTheRequestWithThatReason() {
        fencing.put("a", 9L);
        fencing.put("b", 9L);
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(3, "a", "b", "c"));
        drive(w, w.start(0));
        Result r = done(w.onRoute(new Routing.Refused(new Result.NotEnoughReplicas(ConsistencyLevel.QUORUM, 2, 1, "x")), 0));
        assertInstanceOf(Result.NotEnoughReplicas.class, r);
    }

    @Test
    void theDeadlineBeforeTheOwnValueIsProposedIsATimeOutAfterItIsOutcomeUnknown() {
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        w.start(0); // prepares are out, nothing answered
        assertInstanceOf(Result.TimedOut.class, done(w.onDeadline(10_000)));
        Coordination w2 = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        List<Coordination.Effect> prepares = w2.start(0);
        List<Coordination.Effect> proposes = new ArrayList<>();
        for (Coordination.Effect e : prepares) {
            Coordination.Effect.Send s = (Coordination.Effect.Send) e;
            proposes.addAll(w2.onReply(s.envelope(), answer(s.envelope()), 0));
        }
        assertTrue(proposes.stream().anyMatch(e -> e instanceof Coordination.Effect.Send s
                && s.envelope().request() instanceof PaxosMessage.Propose), "the value is proposed");
        assertInstanceOf(Result.OutcomeUnknown.class, done(w2.onDeadline(10_000)));
    }

    /**
     * A write is answered when a quorum accepted it (chosen); its commits leave with the answer as fire-and-forget
     * repairs to every replica. Silence after that cannot make it "outcome unknown"; silence before it does.
     */
    @Test
    void aQuorumWriteIsAnsweredAtItsAcceptQuorumAndCommitsEverywhereUnwaited() {
        Coordination w = coordination(write("v", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        List<Coordination.Effect> proposes = new ArrayList<>();
        for (Coordination.Effect e : w.start(0)) {
            Coordination.Effect.Send s = (Coordination.Effect.Send) e;
            proposes.addAll(w.onReply(s.envelope(), answer(s.envelope()), 0));
        }
        List<Coordination.Effect.Send> accepts = proposes.stream().filter(e -> e instanceof Coordination.Effect.Send s
                && s.envelope().request() instanceof PaxosMessage.Propose).map(e -> (Coordination.Effect.Send) e).toList();
        assertEquals(3, accepts.size());
        assertTrue(w.onReply(accepts.get(0).envelope(), answer(accepts.get(0).envelope()), 0).isEmpty(), "one acceptance");
        List<Coordination.Effect> ending = w.onReply(accepts.get(1).envelope(), answer(accepts.get(1).envelope()), 0);
        Result.Written written = assertInstanceOf(Result.Written.class, done(ending), "a quorum accepted: answered");
        List<String> committedTo = new ArrayList<>();
        for (Coordination.Effect e : ending) {
            if (e instanceof Coordination.Effect.Send s) {
                PaxosMessage.Commit c = assertInstanceOf(PaxosMessage.Commit.class, s.envelope().request());
                assertTrue(s.repair(), "a commit is not waited for");
                assertEquals(written.version(), c.proposal().version());
                committedTo.add(s.envelope().to());
            }
        }
        assertEquals(List.of("a", "b", "c"), committedTo);
        assertTrue(w.isDone());
        assertTrue(w.onDeadline(10_000).isEmpty(), "answered: the deadline changes nothing");
        acceptors.values().forEach(st -> assertEquals(null, st.committed(), "answered before any commit landed"));
    }

    @Test
    void anUnconditionalWriteAtOneIsCommittedEverywhereAndAcknowledgedByTheFirst() {
        silent.add("a");
        Coordination w = coordination(write("one", Precondition.NONE), ConsistencyLevel.ONE, route(1, "a", "b", "c"));
        List<Coordination.Effect> start = w.start(0);
        assertEquals(3, start.size(), "a commit to every reachable replica, no state read first");
        assertTrue(start.stream().allMatch(e -> ((Coordination.Effect.Send) e).envelope().request() instanceof PaxosMessage.Commit));
        assertInstanceOf(Result.Written.class, done(drive(w, start)));
        assertArrayEquals("one".getBytes(), acceptors.get("b").committed().value());
    }

    /**
     * A decommission below the replication factor: {n1, n2} → {n1}, nobody pending. A write at ONE confirmed by
     * the leaving n2 alone could be left on no replica once the operation finishes (the shrink's sync may already
     * have copied the key from n2); it needs n1, which stays. (The cluster simulator lost such a write: a ONE
     * write acknowledged by the leaving worker after the remaining one had copied the key.)
     */
    @Test
    void aWriteAtOneWhileTheKeysSetShrinksNeedsAReplicaThatStays() {
        io.nimbus.core.topology.Topology t = io.nimbus.core.topology.TopologyTestAccess.grown(2, 3).startLeave("n2", r -> true);
        for (String n : List.of("n1", "n2")) {
            acceptors.put(n, KeyState.EMPTY);
        }
        Routing.Route route = (Routing.Route) Routing.key(t, null, Set.of(), 42L, ConsistencyLevel.ONE, "");
        assertEquals(List.of("n2"), route.leaving());
        assertEquals(List.of(), route.pending());

        silent.add("n1");
        Coordination lost = coordination(write("only-on-n2", Precondition.NONE), ConsistencyLevel.ONE, route);
        assertInstanceOf(Result.OutcomeUnknown.class, done(drive(lost, lost.start(0))),
                "n2 confirmed, but n1, the replica that stays, did not");

        Routing.Route n1Down = (Routing.Route) Routing.key(t, null, Set.of("n1"), 42L, ConsistencyLevel.ONE, "");
        Coordination refused = coordination(write("v", Precondition.NONE), ConsistencyLevel.ONE, n1Down);
        assertInstanceOf(Result.Unavailable.class, done(refused.start(0)), "only the leaving replica is reachable");

        silent.clear();
        Coordination ok = coordination(write("kept", Precondition.NONE), ConsistencyLevel.ONE, route);
        assertInstanceOf(Result.Written.class, done(drive(ok, ok.start(0))));
        assertArrayEquals("kept".getBytes(), acceptors.get("n1").committed().value());
    }

    @Test
    void aWriteAtOneThatNoReplicaConfirmsHasAnUnknownOutcome() {
        silent.addAll(List.of("a", "b", "c"));
        Coordination w = coordination(write("one", Precondition.NONE), ConsistencyLevel.ONE, route(1, "a", "b", "c"));
        assertInstanceOf(Result.OutcomeUnknown.class, done(drive(w, w.start(0))));
    }

    @Test
    void aConditionalWriteAtOneIsJudgedAgainstOneReplicasState() {
        Coordination w = coordination(write("v1", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        Ballot v1 = ((Result.Written) done(drive(w, w.start(0)))).version();
        silent.add("a");
        Coordination stale = coordination(write("v2", new Precondition.VersionIn(List.of(new Ballot(1, "x")))),
                ConsistencyLevel.ONE, route(1, "a", "b", "c"));
        assertEquals(new Result.PreconditionFailed(v1), done(drive(stale, stale.start(0))),
                "a silent replica is skipped, the next one's state judges it");
        Coordination ok = coordination(write("v2", new Precondition.VersionIn(List.of(v1))), ConsistencyLevel.ONE,
                route(1, "a", "b", "c"));
        Result.Written w2 = assertInstanceOf(Result.Written.class, done(drive(ok, ok.start(0))));
        assertTrue(w2.version().compareTo(v1) > 0, "a fresh ballot above the state it was judged on");
    }

    @Test
    void aReadAtOneWhereEveryReplicaIsFencedLearnsTheNewerTopology() {
        fencing.put("a", 4L);
        fencing.put("b", 5L);
        Coordination r = coordination(new Coordination.Request.Read(), ConsistencyLevel.ONE, route(2, "a", "b"));
        List<Coordination.Effect> effects = drive(r, r.start(0));
        assertEquals(new Coordination.Effect.Refresh(5), effects.get(effects.size() - 1));
    }

    @Test
    void aLatePromiseAfterTheAnswerEarnsARepair() {
        Coordination w = coordination(write("v1", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        drive(w, w.start(0));
        acceptors.put("c", KeyState.EMPTY); // c lost it (say it was wiped)
        Coordination r = coordination(new Coordination.Request.Read(), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        List<Coordination.Effect> prepares = r.start(0);
        Coordination.Effect.Send toC = null;
        List<Coordination.Effect> effects = new ArrayList<>();
        for (Coordination.Effect e : prepares) {
            Coordination.Effect.Send s = (Coordination.Effect.Send) e;
            if (s.envelope().to().equals("c")) {
                toC = s;
            } else {
                effects.addAll(r.onReply(s.envelope(), answer(s.envelope()), 0));
            }
        }
        assertInstanceOf(Result.Read.class, done(effects));
        List<Coordination.Effect> late = r.onReply(toC.envelope(), answer(toC.envelope()), 0);
        Coordination.Effect.Send repair = assertInstanceOf(Coordination.Effect.Send.class, late.get(0));
        assertTrue(repair.repair() && repair.envelope().request() instanceof PaxosMessage.Commit);
    }

    @Test
    void aNodeWhoseBallotClockIsExhaustedRefusesWithNothingWrittenAtEveryLevel() {
        io.nimbus.core.kv.BallotClock exhausted = new io.nimbus.core.kv.BallotClock("coord", Long.MAX_VALUE);
        for (ConsistencyLevel level : List.of(ConsistencyLevel.QUORUM, ConsistencyLevel.ONE)) {
            Coordination w = new Coordination(K, write("v", Precondition.NONE), level, route(1, "a", "b", "c"), policy,
                    above -> exhausted.next(now), new SplittableRandom(1), 10_000);
            Result.Unavailable u = assertInstanceOf(Result.Unavailable.class, done(drive(w, w.start(0))), level.name());
            assertTrue(u.why().contains("ballot counter exhausted") && u.why().contains("nothing was written"), u.why());
            assertTrue(w.isDone());
        }
        for (String r : List.of("a", "b", "c")) {
            assertEquals(KeyState.EMPTY, acceptors.get(r), "nothing was sent");
        }
    }

    /** A key moving to "d" (pending) from {a, b, c} to {a, b, d} (c leaves): d is asked, this coordinator's own replica first. */
    static Routing.Route moving(List<String> asked) {
        List<Replica> all = List.of(replica("a"), replica("b"), replica("c"), replica("d"));
        List<Replica> ask = new ArrayList<>();
        for (String n : asked) {
            ask.add(replica(n));
        }
        Quorum q = new Quorum.Joint(Quorum.majority(List.of("a", "b", "c")), Quorum.majority(List.of("a", "b", "d")));
        return new Routing.Route(5, all, ask, q, false, List.of("d"), List.of("c"));
    }

    @Test
    void aReadAtOneNeverAsksAPendingReplicaEvenItsOwn() {
        acceptors.put("d", KeyState.EMPTY);
        Coordination w = coordination(write("v1", Precondition.NONE), ConsistencyLevel.QUORUM, route(1, "a", "b", "c"));
        drive(w, w.start(0));
        Coordination r = coordination(new Coordination.Request.Read(), ConsistencyLevel.ONE, moving(List.of("d", "a", "b", "c")));
        List<Coordination.Effect> effects = drive(r, r.start(0));
        for (Coordination.Effect e : effects) {
            if (e instanceof Coordination.Effect.Send send) {
                assertNotEquals("d", send.envelope().to(), "the pending replica holds nothing until streamed");
            }
        }
        Result.Read read = assertInstanceOf(Result.Read.class, done(effects));
        assertArrayEquals("v1".getBytes(), read.committed().value());
    }

    @Test
    void aWriteAtOneWaitsForEveryPendingReplicaAsWellAsANaturalOne() {
        acceptors.put("d", KeyState.EMPTY);
        Coordination ok = coordination(write("w", Precondition.NONE), ConsistencyLevel.ONE, moving(List.of("a", "b", "c", "d")));
        assertInstanceOf(Result.Written.class, done(drive(ok, ok.start(0))));
        assertArrayEquals("w".getBytes(), acceptors.get("d").committed().value());
        silent.add("d");
        Coordination lost = coordination(write("x", Precondition.NONE), ConsistencyLevel.ONE, moving(List.of("a", "b", "c", "d")));
        Result r = done(drive(lost, lost.start(0)));
        assertInstanceOf(Result.OutcomeUnknown.class, r, "a natural replica alone is not enough while d is pending: " + r);
        Coordination unreachable = coordination(write("y", Precondition.NONE), ConsistencyLevel.ONE, moving(List.of("a", "b", "c")));
        List<Coordination.Effect> effects = unreachable.start(0);
        Result.Unavailable u = assertInstanceOf(Result.Unavailable.class, done(effects));
        assertTrue(u.why().contains("pending replica d"), u.why());
        assertEquals(1, effects.size(), "nothing was sent");
    }

    // ---- writes in a coordinator's term (docs/PAXOS.md "One round trip") ----------------------------------

    Coordination coordination(Coordination.Request req, ConsistencyLevel level, Routing.Route route, Terms terms) {
        return new Coordination(K, req, level, route, policy, this::next, new SplittableRandom(1), 10_000, terms);
    }

    static long prepares(List<Coordination.Effect> effects) {
        return effects.stream().filter(e -> e instanceof Coordination.Effect.Send s && !s.repair()
                && s.envelope().request() instanceof PaxosMessage.Prepare).count();
    }

    @Test
    void aCoordinatorsSecondWriteToAKeySkipsThePrepareAndAReadLeavesItsTermAlone() {
        Terms terms = new Terms(16);
        Routing.Route abc = route(1, "a", "b", "c");
        Coordination first = coordination(write("v1", Precondition.NONE), ConsistencyLevel.QUORUM, abc, terms);
        List<Coordination.Effect> one = drive(first, first.start(0));
        assertEquals(3, prepares(one), "the first write prepares");
        assertEquals(1, terms.size(), "and leaves a term");
        Coordination read = coordination(new Coordination.Request.Read(), ConsistencyLevel.QUORUM, abc, terms);
        assertInstanceOf(Result.Read.class, done(drive(read, read.start(0))));
        assertEquals(1, terms.size(), "a read neither takes nor spends it");
        Coordination second = coordination(write("v2", Precondition.NONE), ConsistencyLevel.QUORUM, abc, terms);
        List<Coordination.Effect> two = drive(second, second.start(0));
        assertEquals(0, prepares(two), "the second write goes straight to accept");
        Result.Written w = assertInstanceOf(Result.Written.class, done(two));
        for (String r : List.of("a", "b", "c")) {
            assertEquals(w.version(), acceptors.get(r).committed().version(), r);
        }
        Coordination other = coordination(write("v3", Precondition.NONE), ConsistencyLevel.QUORUM, route(2, "a", "b", "c"), terms);
        assertEquals(3, prepares(drive(other, other.start(0))), "a route of another epoch prepares: the term was for epoch 1");
    }

    @Test
    void aWriteWhoseOutcomeIsUnknownEndsTheTerm() {
        Terms terms = new Terms(16);
        Routing.Route abc = route(1, "a", "b", "c");
        Coordination first = coordination(write("v1", Precondition.NONE), ConsistencyLevel.QUORUM, abc, terms);
        drive(first, first.start(0));
        silent.add("b");
        silent.add("c"); // the term's write reaches a only: outcome unknown
        Coordination second = coordination(write("v2", Precondition.NONE), ConsistencyLevel.QUORUM, abc, terms);
        assertInstanceOf(Result.OutcomeUnknown.class, done(drive(second, second.start(0))));
        assertEquals(0, terms.size(), "its term is gone: the write may have been chosen");
        silent.clear();
        Coordination third = coordination(write("v3", Precondition.NONE), ConsistencyLevel.QUORUM, abc, terms);
        assertEquals(3, prepares(drive(third, third.start(0))), "so the next write prepares");
    }

    @Test
    void aTermTheLocalReplicaKnowsToBeStaleIsNotTried() {
        Routing.Route abc = route(1, "a", "b", "c");
        Terms terms = new Terms(16, "a", key -> acceptors.get("a").promised()); // this node is replica a
        Coordination first = coordination(write("v1", Precondition.NONE), ConsistencyLevel.QUORUM, abc, terms);
        drive(first, first.start(0));
        acceptors.replaceAll((r, st) -> Acceptor.prepare(st, new io.nimbus.core.kv.Ballot(Long.MAX_VALUE / 2, "rival")).next());
        Coordination second = coordination(write("v2", Precondition.NONE), ConsistencyLevel.QUORUM, abc, terms);
        List<Coordination.Effect> effects = second.start(0);
        assertTrue(effects.stream().allMatch(e -> !(e instanceof Coordination.Effect.Send s)
                        || s.envelope().request() instanceof PaxosMessage.Prepare),
                "a promised another ballot: the write prepares at once instead of sending a doomed accept: " + effects);
    }
}
