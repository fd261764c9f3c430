package io.nimbus.core.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes in a coordinator's term (docs/PAXOS.md "One round trip"), against three in-memory acceptors: the
 * second write of a coordinator skips the prepare; a stale term is refused and costs nothing; a stale term's
 * write that some replica took is settled by the next attempt's prepare.
 */
class TermWriteTest {
    static final String K = "k";
    static final List<String> ABC = List.of("a", "b", "c");
    final Map<String, KeyState> acceptors = new TreeMap<>(Map.of("a", KeyState.EMPTY, "b", KeyState.EMPTY, "c", KeyState.EMPTY));
    long clock = 100;

    Ballot next() {
        return new Ballot(++clock, "coord");
    }

    PaxosMessage reply(Proposer.Envelope e) {
        KeyState s = acceptors.get(e.to());
        if (e.request() instanceof PaxosMessage.Prepare pr) {
            Acceptor.Transition<PaxosMessage.PrepareReply> t = Acceptor.prepare(s, pr.ballot());
            acceptors.put(e.to(), t.next());
            return t.reply();
        }
        if (e.request() instanceof PaxosMessage.Propose pp) {
            Acceptor.Transition<PaxosMessage.AcceptReply> t = Acceptor.accept(s, pp.proposal());
            acceptors.put(e.to(), t.next());
            return t.reply();
        }
        PaxosMessage.Commit c = (PaxosMessage.Commit) e.request();
        acceptors.put(e.to(), Acceptor.commit(s, c.proposal()));
        return new PaxosMessage.Committed();
    }

    /** Delivers every message of {@code step} in order (and what follows) until the proposer ends or restarts. */
    Proposer.Step drive(Proposer p, Proposer.Step step) {
        while (step instanceof Proposer.Step.Send send) {
            Proposer.Step last = null;
            for (Proposer.Envelope e : send.messages()) {
                Proposer.Step s = p.onReply(e, reply(e));
                if (!(s instanceof Proposer.Step.Waiting)) {
                    last = s;
                }
            }
            step = last;
        }
        if (step instanceof Proposer.Step.Done d) {
            d.repairs().forEach(this::reply);
        }
        return step;
    }

    static Proposer.Op write(String v) {
        return new Proposer.Op.Write(v.getBytes(), Precondition.NONE);
    }

    /** A full write by "coord" that leaves it a term. */
    Proposer.Term writeWithPrepare(String v) {
        Proposer p = new Proposer(K, write(v), ABC, Quorum.majority(ABC));
        assertInstanceOf(Proposer.Step.Done.class, drive(p, p.start(next())));
        return assertNotNull(p.term(), "a prepared write that was chosen leaves its coordinator a term");
    }

    private static <T> T assertNotNull(T t, String why) {
        org.junit.jupiter.api.Assertions.assertNotNull(t, why);
        return t;
    }

    @Test
    void theNextWriteInATermSkipsThePrepareAndIsChosenUnderTheTermsBallot() {
        Proposer.Term term = writeWithPrepare("v1");
        Proposer p = new Proposer(K, write("v2"), ABC, Quorum.majority(ABC));
        Ballot version = next();
        Proposer.Step.Send first = assertInstanceOf(Proposer.Step.Send.class, p.startInTerm(term, version));
        first.messages().forEach(e -> assertInstanceOf(PaxosMessage.Propose.class, e.request(), "no prepare: " + e));
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, drive(p, first));
        assertEquals(version, assertInstanceOf(Proposer.Outcome.Written.class, done.outcome()).version());
        for (KeyState s : acceptors.values()) {
            assertEquals(term.ballot(), s.committed().ballot(), "committed under the term's ballot");
            assertEquals(version, s.committed().version(), "with its own version");
            assertArrayEquals("v2".getBytes(), s.committed().value());
        }
        Proposer.Term after = p.term();
        assertEquals(term.ballot(), after.ballot(), "the term goes on");
        assertEquals(version, after.last().version());
    }

    @Test
    void aCompareAndSetInATermIsJudgedAgainstTheTermsLastWriteAndAFailingOneTakesTheFullPath() {
        Proposer.Term term = writeWithPrepare("v1");
        Ballot v1 = term.last().version();
        Proposer stale = new Proposer(K, new Proposer.Op.Write("x".getBytes(), new Precondition.VersionIn(List.of(new Ballot(1, "other")))),
                ABC, Quorum.majority(ABC));
        assertNull(stale.startInTerm(term, next()), "a precondition failing on the term's last write proves nothing: full path");
        Proposer cas = new Proposer(K, new Proposer.Op.Write("v2".getBytes(), new Precondition.VersionIn(List.of(v1))), ABC,
                Quorum.majority(ABC));
        assertInstanceOf(Proposer.Step.Done.class, drive(cas, cas.startInTerm(term, next())));
    }

    @Test
    void aStaleTermIsRefusedByEveryReplicaAndNothingIsWritten() {
        Proposer.Term term = writeWithPrepare("v1");
        Ballot rival = new Ballot(10_000, "rival");
        acceptors.replaceAll((id, s) -> Acceptor.prepare(s, rival).next());
        Map<String, KeyState> before = new TreeMap<>(acceptors);
        Proposer p = new Proposer(K, write("v2"), ABC, Quorum.majority(ABC));
        Proposer.Step s = drive(p, p.startInTerm(term, next()));
        assertEquals(new Proposer.Step.Restart(rival), s, "every replica refused: a plain restart, nothing written");
        assertEquals(before, acceptors, "a refusal changes nothing");
        assertNull(p.term());
    }

    @Test
    void anAcceptorDoesNotTakeBackAnEarlierWriteOfTheSameTerm() {
        Ballot b = next();
        Proposal first = Proposal.inTerm(b, new Ballot(b.counter() + 1, "coord"), "1".getBytes());
        Proposal second = Proposal.inTerm(b, new Ballot(b.counter() + 2, "coord"), "2".getBytes());
        KeyState s = Acceptor.prepare(KeyState.EMPTY, b).next();
        s = Acceptor.accept(s, second).next();
        Acceptor.Transition<PaxosMessage.AcceptReply> late = Acceptor.accept(s, first);
        assertInstanceOf(PaxosMessage.Rejected.class, late.reply(), "a delayed copy of the earlier write is refused");
        assertSame(s, late.next());
        KeyState committed = Acceptor.commit(Acceptor.commit(s, first), second);
        assertEquals(second, committed.committed(), "the later version of one ballot is learned over the earlier");
        assertEquals(second, Acceptor.commit(committed, first).committed(), "and never goes back");
    }

    /**
     * A write in {@code term} with {@code version}, asked of c first (it takes it: it never heard of a rival), then of
     * a and b (they refuse it): the proposer restarts with what the next attempt must settle.
     */
    Proposer.Recovery partlyAccepted(Proposer.Term term, Ballot version) {
        Proposer p = new Proposer(K, write("mine"), ABC, Quorum.majority(ABC));
        Proposer.Step.Send send = assertInstanceOf(Proposer.Step.Send.class, p.startInTerm(term, version));
        Proposer.Step s = null;
        for (Proposer.Envelope e : List.of(send.messages().get(2), send.messages().get(0), send.messages().get(1))) {
            s = p.onReply(e, reply(e));
        }
        Proposer.Step.Restart restart = assertInstanceOf(Proposer.Step.Restart.class, s);
        assertNotNull(restart.recovery(), "c holds the write: not 'nothing written', the next attempt must settle it");
        assertArrayEquals("mine".getBytes(), acceptors.get("c").accepted().value());
        return restart.recovery();
    }

    /** The next attempt after {@link #partlyAccepted}: prepares {@code ballot} and hears from {@code from} only. */
    Proposer.Step retry(Proposer.Recovery recovery, Ballot ballot, List<String> from) {
        Proposer retry = new Proposer(K, write("mine"), ABC, Quorum.majority(ABC));
        retry.recovering(recovery);
        Proposer.Step.Send prepares = assertInstanceOf(Proposer.Step.Send.class, retry.start(ballot));
        Proposer.Step step = null;
        for (Proposer.Envelope e : prepares.messages()) {
            if (from.contains(e.to())) {
                step = retry.onReply(e, reply(e));
            }
        }
        return drive(retry, step);
    }

    /**
     * A stale term meets a lagging replica: c missed a rival's write (chosen by a and b under a higher ballot), so it
     * takes the term's write while a and b refuse it. That is not "nothing written" — whoever prepares c next may finish
     * it — so the next attempt settles it. Its promises show the rival's write under a ballot above the term's: a write
     * made on top of this one would look the same (its finisher could have prepared above the term), so the outcome is
     * unknown, truthfully, though here the rival's write came first.
     */
    @Test
    void aStaleTermsWriteTakenByALaggingReplicaIsSettledByTheNextPrepare() {
        Proposer.Term term = writeWithPrepare("v1");
        Ballot rivalBallot = new Ballot(5_000, "rival");
        Proposal rivalWrite = new Proposal(rivalBallot, "r".getBytes());
        for (String r : List.of("a", "b")) {
            KeyState s = Acceptor.prepare(acceptors.get(r), rivalBallot).next();
            acceptors.put(r, Acceptor.commit(Acceptor.accept(s, rivalWrite).next(), rivalWrite));
        }
        Proposer.Recovery recovery = partlyAccepted(term, next());
        Proposer.Step.Failed f = assertInstanceOf(Proposer.Step.Failed.class, retry(recovery, new Ballot(6_000, "coord"), List.of("a", "b")));
        assertTrue(f.outcomeUnknown(), f.why());
    }

    @Test
    void aRecoveringAttemptThatFindsTheWriteNewestFinishesItAsItsOwn() {
        Proposer.Term term = writeWithPrepare("v1");
        Ballot rival = new Ballot(5_000, "rival");
        for (String r : List.of("a", "b")) {
            acceptors.put(r, Acceptor.prepare(acceptors.get(r), rival).next()); // a rival read prepared a and b, nothing more
        }
        Ballot version = next();
        Proposer.Recovery recovery = partlyAccepted(term, version);
        // the retry's quorum is b and c: c reports the write, b nothing newer than v1
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, retry(recovery, new Ballot(6_000, "coord"), List.of("b", "c")));
        assertEquals(version, assertInstanceOf(Proposer.Outcome.Written.class, done.outcome()).version(),
                "answered with the version its first attempt proposed, written once");
        assertArrayEquals("mine".getBytes(), acceptors.get("b").committed().value());
        assertEquals(version, acceptors.get("b").committed().version());
    }

    @Test
    void aRecoveringAttemptThatSeesNothingNewerThanTheBaseGoesOnAsAFreshWrite() {
        Proposer.Term term = writeWithPrepare("v1");
        Ballot rival = new Ballot(5_000, "rival");
        acceptors.put("a", Acceptor.prepare(acceptors.get("a"), rival).next());
        acceptors.put("b", Acceptor.prepare(acceptors.get("b"), rival).next());
        Proposer.Recovery recovery = partlyAccepted(term, next());
        Ballot fresh = new Ballot(6_000, "coord");
        // a and b: they never saw it, and nothing newer than v1
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, retry(recovery, fresh, List.of("a", "b")));
        assertEquals(fresh, assertInstanceOf(Proposer.Outcome.Written.class, done.outcome()).version(),
                "not chosen before: written now as a fresh write, once");
    }

    @Test
    void theCoordinatorsOwnReplicaIsAskedLastSoALaggingOneNeverTakesAStaleTermsWrite() {
        Proposer.Term term = writeWithPrepare("v1");
        Ballot rival = new Ballot(5_000, "rival");
        for (String r : List.of("a", "b")) {
            acceptors.put(r, Acceptor.prepare(acceptors.get(r), rival).next()); // c, this coordinator's replica, lags
        }
        KeyState lagging = acceptors.get("c");
        Proposer p = new Proposer(K, write("mine"), ABC, Quorum.majority(ABC));
        Proposer.Step.Send first = assertInstanceOf(Proposer.Step.Send.class, p.startInTerm(term, next(), java.util.Set.of("c")));
        assertEquals(List.of("a", "b"), first.messages().stream().map(Proposer.Envelope::to).toList(), "c is not asked yet");
        Proposer.Step s = null;
        for (Proposer.Envelope e : first.messages()) {
            s = p.onReply(e, reply(e));
        }
        assertEquals(new Proposer.Step.Restart(rival), s, "both refused and c was never asked: nothing written, a plain restart");
        assertSame(lagging, acceptors.get("c"));
    }

    @Test
    void theOwnReplicaIsAskedOnceAnotherAccepted() {
        Proposer.Term term = writeWithPrepare("v1");
        Proposer p = new Proposer(K, write("v2"), ABC, Quorum.majority(ABC));
        Ballot version = next();
        Proposer.Step.Send first = assertInstanceOf(Proposer.Step.Send.class, p.startInTerm(term, version, java.util.Set.of("c")));
        Proposer.Step.Send thenC = assertInstanceOf(Proposer.Step.Send.class, p.onReply(first.messages().get(0), reply(first.messages().get(0))));
        assertEquals(List.of("c"), thenC.messages().stream().map(Proposer.Envelope::to).toList());
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, p.onReply(thenC.messages().get(0), reply(thenC.messages().get(0))));
        assertEquals(version, assertInstanceOf(Proposer.Outcome.Written.class, done.outcome()).version());
    }

    /**
     * A write's version names it, so a new write must not reuse one: a write in a term has a version above its ballot,
     * and another coordinator whose clock is behind that version would otherwise propose under a ballot equal to it.
     */
    @Test
    void aFullWriteWhoseBallotIsNotAboveTheNewestVersionRestartsAboveIt() {
        Proposer.Term term = writeWithPrepare("v1");
        Ballot ahead = new Ballot(9_000, "coord");
        Proposer inTerm = new Proposer(K, write("v2"), ABC, Quorum.majority(ABC));
        assertInstanceOf(Proposer.Step.Done.class, drive(inTerm, inTerm.startInTerm(term, ahead)));
        Proposer behind = new Proposer(K, write("v3"), ABC, Quorum.majority(ABC));
        Proposer.Step s = drive(behind, behind.start(new Ballot(8_000, "late")));
        assertEquals(new Proposer.Step.Restart(ahead), s, "nothing proposed: start again above the newest version");
        Proposer again = new Proposer(K, write("v3"), ABC, Quorum.majority(ABC));
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, drive(again, again.start(new Ballot(9_001, "late"))));
        assertEquals(new Ballot(9_001, "late"), assertInstanceOf(Proposer.Outcome.Written.class, done.outcome()).version());
    }

    /**
     * The base itself finished under a higher ballot (an earlier recovering attempt repaired it: accepted, never
     * committed, on the replicas it asked) is not "another write since": the write is still provably not chosen.
     */
    @Test
    void theBaseFinishedUnderAHigherBallotIsNotANewerWrite() {
        Proposer.Term term = writeWithPrepare("v1");
        Proposal base = term.last();
        Ballot rival = new Ballot(5_000, "rival");
        for (String r : List.of("a", "b")) {
            acceptors.put(r, Acceptor.prepare(acceptors.get(r), rival).next());
        }
        Proposer.Recovery recovery = partlyAccepted(term, next());
        Proposal repaired = acceptors.get("a").committed().reproposed(new Ballot(5_500, "rival"));
        for (String r : List.of("a", "b")) {
            acceptors.put(r, Acceptor.accept(Acceptor.prepare(acceptors.get(r), repaired.ballot()).next(), repaired).next());
        }
        assertEquals(base.version(), repaired.version());
        Proposer.Step.Restart finishedBase = assertInstanceOf(Proposer.Step.Restart.class,
                retry(recovery, new Ballot(6_000, "coord"), List.of("a", "b")),
                "a and b report only the base, re-proposed and not committed: not chosen, so the attempt finishes the base");
        assertEquals(recovery, finishedBase.recovery(), "and the next attempt still settles this write");
        Ballot fresh = new Ballot(7_000, "coord");
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, retry(recovery, fresh, List.of("a", "b")));
        assertEquals(fresh, assertInstanceOf(Proposer.Outcome.Written.class, done.outcome()).version(),
                "written once, as a fresh write on top of the base");
    }
}
