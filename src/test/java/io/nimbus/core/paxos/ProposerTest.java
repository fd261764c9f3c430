package io.nimbus.core.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The proposer against three in-memory acceptors that can be made unreachable. */
class ProposerTest {
    static final String K = "k";
    final Map<String, KeyState> acceptors = new TreeMap<>(Map.of("a", KeyState.EMPTY, "b", KeyState.EMPTY, "c", KeyState.EMPTY));
    final Set<String> down = new HashSet<>();
    long clock = 100;
    /** Register reads delivered (the read fast path's requests). */
    int reads;

    Ballot next(Ballot above) {
        clock = Math.max(clock + 1, above == null ? 0 : above.counter() + 1);
        return new Ballot(clock, "coord");
    }

    /** The quorum of {@code n} of the three replicas: 2 is a majority, 3 is all. */
    static Quorum quorumOf(int n) {
        return switch (n) {
            case 2 -> Quorum.majority(List.of("a", "b", "c"));
            case 3 -> Quorum.all(List.of("a", "b", "c"));
            default -> throw new IllegalArgumentException("no quorum of " + n + " of 3 here");
        };
    }

    /** Runs an operation to completion (or until it stalls), delivering every message synchronously. */
    Proposer.Outcome run(Proposer.Op op, int quorum) {
        Proposer p = new Proposer(K, op, List.of("a", "b", "c"), quorumOf(quorum));
        Proposer.Step step = p.start(next(null));
        for (int attempts = 0; attempts < 20; attempts++) {
            Deque<Proposer.Step> work = new ArrayDeque<>(List.of(step));
            while (!work.isEmpty()) {
                Proposer.Step s = work.poll();
                if (s instanceof Proposer.Step.Done d) {
                    d.repairs().forEach(e -> deliver(p, e));
                    return d.outcome();
                }
                if (s instanceof Proposer.Step.Restart r) {
                    work.clear();
                    step = p.start(next(r.seen()));
                    break;
                }
                if (s instanceof Proposer.Step.Failed) {
                    return null;
                }
                if (s instanceof Proposer.Step.Send send) {
                    send.repairs().forEach(e -> deliver(p, e));
                    for (Proposer.Envelope e : send.messages()) {
                        Proposer.Step reply = deliver(p, e);
                        if (reply != null) {
                            work.add(reply);
                        }
                    }
                }
                if (work.isEmpty()) {
                    throw new AssertionError("stalled: every reply delivered and no decision");
                }
            }
        }
        throw new AssertionError("no decision in 20 attempts");
    }

    Proposer.Step deliver(Proposer p, Proposer.Envelope e) {
        if (down.contains(e.to())) {
            return p.onNoReply(e);
        }
        KeyState s = acceptors.get(e.to());
        if (e.request() instanceof PaxosMessage.Prepare pr) {
            Acceptor.Transition<PaxosMessage.PrepareReply> t = Acceptor.prepare(s, pr.ballot());
            acceptors.put(e.to(), t.next());
            return p.onReply(e, t.reply());
        }
        if (e.request() instanceof PaxosMessage.Propose pp) {
            Acceptor.Transition<PaxosMessage.AcceptReply> t = Acceptor.accept(s, pp.proposal());
            acceptors.put(e.to(), t.next());
            return p.onReply(e, t.reply());
        }
        if (e.request() instanceof PaxosMessage.ReadCommitted) {
            reads++;
            return p.onReply(e, new PaxosMessage.State(s));
        }
        PaxosMessage.Commit c = (PaxosMessage.Commit) e.request();
        acceptors.put(e.to(), Acceptor.commit(s, c.proposal()));
        return p.onReply(e, new PaxosMessage.Committed());
    }

    static Proposer.Op write(String v) {
        return new Proposer.Op.Write(v.getBytes(), Precondition.NONE);
    }

    static byte[] valueOf(Proposer.Outcome o) {
        Proposal p = ((Proposer.Outcome.Read) o).committed();
        return p == null ? null : p.value();
    }

    @Test
    void aWriteIsReadBackAndItsBallotIsItsVersion() {
        Proposer.Outcome w = run(write("v1"), 2);
        Ballot version = assertInstanceOf(Proposer.Outcome.Written.class, w).version();
        Proposer.Outcome r = run(new Proposer.Op.Read(), 2);
        assertArrayEquals("v1".getBytes(), valueOf(r));
        assertEquals(version, ((Proposer.Outcome.Read) r).committed().ballot());
        acceptors.values().forEach(s -> assertEquals(version, s.committed().ballot(), "commit reaches every replica"));
    }

    @Test
    void quorumToleratesOneReplicaDownButAllDoesNot() {
        down.add("c");
        assertInstanceOf(Proposer.Outcome.Written.class, run(write("v1"), 2));
        assertNull(run(write("v2"), 3), "ALL cannot finish with a replica down");
        down.clear();
        assertArrayEquals("v1".getBytes(), valueOf(run(new Proposer.Op.Read(), 3)),
                "the ALL attempt never reached accept, so nothing changed");
    }

    @Test
    void compareAndSetIsJudgedAgainstTheNewestCommit() {
        Ballot v1 = ((Proposer.Outcome.Written) run(write("v1"), 2)).version();
        Ballot v2 = ((Proposer.Outcome.Written) run(new Proposer.Op.Write("v2".getBytes(),
                new Precondition.VersionIn(List.of(v1))), 2)).version();
        Proposer.Outcome stale = run(new Proposer.Op.Write("v3".getBytes(), new Precondition.VersionIn(List.of(v1))), 2);
        assertEquals(new Proposer.Outcome.PreconditionFailed(v2), stale);
        assertEquals(new Proposer.Outcome.PreconditionFailed(v2), run(new Proposer.Op.Write("x".getBytes(), new Precondition.Absent()), 2));
        assertInstanceOf(Proposer.Outcome.Written.class, run(new Proposer.Op.Write(null, Precondition.NONE), 2));
        assertEquals(new Proposer.Outcome.NotFound(), run(new Proposer.Op.Write(null, Precondition.NONE), 2));
        assertTrue(((Proposer.Outcome.Read) run(new Proposer.Op.Read(), 2)).committed().isTombstone());
    }

    @Test
    void aValueAcceptedByAQuorumButNeverCommittedIsChosenByTheNextProposer() {
        // An earlier coordinator got "x" accepted by a and b under ballot 50, then died before committing.
        Proposal x = new Proposal(new Ballot(50, "dead"), "x".getBytes());
        acceptors.put("a", new KeyState(x.ballot(), x, null));
        acceptors.put("b", new KeyState(x.ballot(), x, null));
        // a is now unreachable: the next coordinator's quorum is {b, c}; b's promise must carry "x".
        down.add("a");
        Proposer.Outcome r = run(new Proposer.Op.Read(), 2);
        assertArrayEquals("x".getBytes(), valueOf(r), "a value that may have been chosen is finished, never lost");
        down.clear();
        // and a CAS that expected "nothing there" must now fail against it
        assertInstanceOf(Proposer.Outcome.PreconditionFailed.class,
                run(new Proposer.Op.Write("y".getBytes(), new Precondition.Absent()), 2));
    }

    @Test
    void aHigherPromiseMakesTheAttemptRestartAboveIt() {
        acceptors.replaceAll((id, s) -> new KeyState(new Ballot(10_000, "rival"), null, null));
        Proposer p = new Proposer(K, write("v"), List.of("a", "b", "c"), quorumOf(2));
        Proposer.Step s = p.start(new Ballot(200, "coord"));
        Proposer.Step last = null;
        for (Proposer.Envelope e : ((Proposer.Step.Send) s).messages()) {
            Proposer.Step r = deliver(p, e);
            if (!(r instanceof Proposer.Step.Waiting)) {
                last = r;
            }
        }
        Proposer.Step.Restart restart = assertInstanceOf(Proposer.Step.Restart.class, last);
        assertEquals(new Ballot(10_000, "rival"), restart.seen());
        assertInstanceOf(Proposer.Outcome.Written.class, run(write("v"), 2), "a retry above the rival succeeds");
    }

    @Test
    void duplicateStaleAndStrayRepliesAreIgnored() {
        Proposer p = new Proposer(K, write("v"), List.of("a", "b", "c"), quorumOf(2));
        Ballot b = new Ballot(500, "coord");
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) p.start(b)).messages();
        PaxosMessage.Promised promise = new PaxosMessage.Promised(b, null, null);
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(prepares.get(0), promise));
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(prepares.get(0), promise), "a duplicate is not a second promise");
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(new Proposer.Envelope("zz", prepares.get(1).request()), promise),
                "not a replica of this key");
        Proposal stale = new Proposal(new Ballot(400, "coord"), "old".getBytes());
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(new Proposer.Envelope("b", new PaxosMessage.Commit(K, stale)),
                new PaxosMessage.Committed()), "a commit ack for another proposal");
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(new Proposer.Envelope("b", new PaxosMessage.Prepare(K, stale.ballot())),
                new PaxosMessage.Promised(stale.ballot(), null, null)), "a promise for an earlier attempt's ballot");
        Proposer.Step.Send accepts = assertInstanceOf(Proposer.Step.Send.class, p.onReply(prepares.get(1), promise));
        assertTrue(p.mayHaveWritten());
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(prepares.get(2), promise), "a promise after the phase moved on");
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(accepts.messages().get(0), new PaxosMessage.Accepted(b)));
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(accepts.messages().get(0), new PaxosMessage.Accepted(b)),
                "a duplicate is not a second acceptance");
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class,
                p.onReply(accepts.messages().get(1), new PaxosMessage.Accepted(b)));
        assertEquals(new Proposer.Outcome.Written(b), done.outcome());
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(accepts.messages().get(2), new PaxosMessage.Accepted(b)),
                "a late accept after the answer changes nothing");
        assertInstanceOf(Proposer.Step.Waiting.class, p.onReply(done.repairs().get(0), new PaxosMessage.Committed()),
                "a commit is fire-and-forget: its acknowledgement is not fed back, and ignored if it is");
    }

    /**
     * The write is chosen once a quorum accepted it (Lamport's definition), so that is when its client is
     * answered: the commits go to every replica fire-and-forget, and nothing the commits do or fail to do can
     * make the answer wrong.
     */
    @Test
    void aWriteIsAnsweredOnceAQuorumAcceptedItAndItsCommitsGoToEveryReplicaUnwaited() {
        Proposer p = new Proposer(K, write("v"), List.of("a", "b", "c"), quorumOf(2));
        Ballot b = new Ballot(500, "coord");
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) p.start(b)).messages();
        deliver(p, prepares.get(0));
        List<Proposer.Envelope> accepts = ((Proposer.Step.Send) deliver(p, prepares.get(1))).messages();
        assertTrue(p.mayHaveWritten(), "proposed, not yet chosen: a failure now leaves the outcome unknown");
        assertInstanceOf(Proposer.Step.Waiting.class, deliver(p, accepts.get(0)), "one acceptance is not a quorum");
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, deliver(p, accepts.get(1)),
                "a quorum accepted: chosen, answered without a commit round");
        assertEquals(new Proposer.Outcome.Written(b), done.outcome());
        assertFalse(p.mayHaveWritten(), "answered: no time-out can turn it into 'outcome unknown' any more");
        Proposal chosen = acceptors.get("a").accepted();
        assertEquals(List.of(new Proposer.Envelope("a", new PaxosMessage.Commit(K, chosen)),
                new Proposer.Envelope("b", new PaxosMessage.Commit(K, chosen)),
                new Proposer.Envelope("c", new PaxosMessage.Commit(K, chosen))), done.repairs(),
                "the commit to every replica, c included (it never saw the accept)");
        acceptors.values().forEach(s -> assertNull(s.committed(), "nothing committed anywhere when the client is answered"));
    }

    /** What makes the early answer safe: an acknowledged write whose commits were all lost is the next proposer's base. */
    @Test
    void anAcknowledgedWriteWhoseCommitsWereAllLostIsFinishedByTheNextProposer() {
        Proposer writer = new Proposer(K, write("x"), List.of("a", "b", "c"), quorumOf(2));
        Ballot b1 = next(null);
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) writer.start(b1)).messages();
        deliver(writer, prepares.get(0));
        List<Proposer.Envelope> accepts = ((Proposer.Step.Send) deliver(writer, prepares.get(1))).messages();
        deliver(writer, accepts.get(0));
        Proposer.Step.Done acked = assertInstanceOf(Proposer.Step.Done.class, deliver(writer, accepts.get(1)));
        assertEquals(new Proposer.Outcome.Written(b1), acked.outcome());
        // the coordinator dies before any commit leaves; a, which accepted, is unreachable: the next quorum is {b, c}
        down.add("a");
        assertEquals(new Proposer.Outcome.PreconditionFailed(b1),
                run(new Proposer.Op.Write("y".getBytes(), new Precondition.Absent()), 2),
                "a create-if-absent sees the acknowledged write (b reported it accepted; it was finished first)");
        Proposal read = ((Proposer.Outcome.Read) run(new Proposer.Op.Read(), 2)).committed();
        assertArrayEquals("x".getBytes(), read.value());
        assertEquals(b1, read.version(), "under the version its client was given");
        assertInstanceOf(Proposer.Outcome.Written.class,
                run(new Proposer.Op.Write("z".getBytes(), new Precondition.VersionIn(List.of(b1))), 2),
                "and a compare-and-set on that version succeeds");
    }

    @Test
    void tooFewAnswersInPrepareFailsWithNothingWritten() {
        down.add("b");
        down.add("c");
        Proposer p = new Proposer(K, write("v"), List.of("a", "b", "c"), quorumOf(2));
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) p.start(new Ballot(500, "coord"))).messages();
        deliver(p, prepares.get(0));
        assertInstanceOf(Proposer.Step.Waiting.class, deliver(p, prepares.get(1)), "one silence: c may still answer");
        Proposer.Step.Failed f = assertInstanceOf(Proposer.Step.Failed.class, deliver(p, prepares.get(2)));
        assertFalse(f.outcomeUnknown(), "no value was proposed");
        assertTrue(f.why().contains("only [a] of [a, b, c] answered prepare"), f.why());
    }

    @Test
    void losingTheAcceptPhaseAfterSomeReplicaAcceptedIsOutcomeUnknownNotARetry() {
        Proposer p = new Proposer(K, write("mine"), List.of("a", "b", "c"), quorumOf(2));
        Ballot b = new Ballot(500, "coord");
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) p.start(b)).messages();
        deliver(p, prepares.get(0));
        Proposer.Step.Send accepts = (Proposer.Step.Send) deliver(p, prepares.get(1));
        // a rival prepares b and c above us after a accepted "mine"
        assertInstanceOf(Proposer.Step.Waiting.class, deliver(p, accepts.messages().get(0)));
        Ballot rival = new Ballot(900, "rival");
        acceptors.put("b", Acceptor.prepare(acceptors.get("b"), rival).next());
        acceptors.put("c", Acceptor.prepare(acceptors.get("c"), rival).next());
        deliver(p, accepts.messages().get(1));
        Proposer.Step.Failed f = assertInstanceOf(Proposer.Step.Failed.class, deliver(p, accepts.messages().get(2)));
        assertTrue(f.outcomeUnknown(), "a holds 'mine' as accepted: the rival may finish it");
        assertArrayEquals("mine".getBytes(), acceptors.get("a").accepted().value());
    }

    @Test
    void anAcceptRefusedByEveryReplicaIsRetriedSafely() {
        Proposer p = new Proposer(K, write("mine"), List.of("a", "b", "c"), quorumOf(2));
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) p.start(new Ballot(500, "coord"))).messages();
        deliver(p, prepares.get(0));
        Proposer.Step.Send accepts = (Proposer.Step.Send) deliver(p, prepares.get(1));
        Ballot rival = new Ballot(900, "rival");
        acceptors.replaceAll((id, s) -> Acceptor.prepare(s, rival).next());
        assertInstanceOf(Proposer.Step.Waiting.class, deliver(p, accepts.messages().get(0)));
        assertInstanceOf(Proposer.Step.Waiting.class, deliver(p, accepts.messages().get(1)),
                "two refusals but c has not answered: wait, it may refuse too");
        assertEquals(new Proposer.Step.Restart(rival), deliver(p, accepts.messages().get(2)));
        acceptors.values().forEach(s -> assertNull(s.accepted(), "nothing was accepted anywhere"));
    }

    @Test
    void anAcceptAfterTwoRefusalsEndsTheAttemptInsteadOfWaitingForever() {
        Proposer p = new Proposer(K, write("mine"), List.of("a", "b", "c"), quorumOf(2));
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) p.start(new Ballot(500, "coord"))).messages();
        deliver(p, prepares.get(0));
        Proposer.Step.Send accepts = (Proposer.Step.Send) deliver(p, prepares.get(1));
        Ballot rival = new Ballot(900, "rival");
        acceptors.put("a", Acceptor.prepare(acceptors.get("a"), rival).next());
        acceptors.put("b", Acceptor.prepare(acceptors.get("b"), rival).next());
        assertInstanceOf(Proposer.Step.Waiting.class, deliver(p, accepts.messages().get(0)));
        assertInstanceOf(Proposer.Step.Waiting.class, deliver(p, accepts.messages().get(1)));
        Proposer.Step.Failed f = assertInstanceOf(Proposer.Step.Failed.class, deliver(p, accepts.messages().get(2)),
                "the last answer was an acceptance: no quorum is possible, and c holds the value");
        assertTrue(f.outcomeUnknown());
    }

    @Test
    void aLaggingReplicaThatAnswersAReadLateIsRepairedToo() {
        Ballot v1 = ((Proposer.Outcome.Written) run(write("v1"), 2)).version();
        acceptors.put("c", KeyState.EMPTY); // c lost everything (a replaced disk) or missed the write
        Proposer p = new Proposer(K, new Proposer.Op.Read(), List.of("a", "b", "c"), quorumOf(2));
        List<Proposer.Envelope> reads = ((Proposer.Step.Send) p.start(new Ballot(v1.counter() + 10, "coord"))).messages();
        deliver(p, reads.get(0));
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, deliver(p, reads.get(1)));
        assertTrue(done.repairs().isEmpty(), "a and b were up to date");
        List<Proposer.Envelope> repairs = p.lateRepairs(reads.get(2), new PaxosMessage.State(acceptors.get("c")));
        assertEquals(List.of(new Proposer.Envelope("c", new PaxosMessage.Commit(K, acceptors.get("a").committed()))), repairs);
        assertTrue(p.lateRepairs(reads.get(0), new PaxosMessage.State(acceptors.get("a"))).isEmpty(),
                "an up-to-date replica needs nothing");
    }

    @Test
    void aLaggingReplicaWhosePromiseArrivesLateIsRepairedToo() {
        Ballot v1 = ((Proposer.Outcome.Written) run(write("v1"), 2)).version();
        acceptors.put("c", KeyState.EMPTY);
        // a CAS that fails its precondition ends after prepare: c's promise comes after the answer
        Proposer p = new Proposer(K, new Proposer.Op.Write("x".getBytes(), new Precondition.Absent()), List.of("a", "b", "c"),
                quorumOf(2));
        Ballot b = new Ballot(v1.counter() + 10, "coord");
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) p.start(b)).messages();
        deliver(p, prepares.get(0));
        assertInstanceOf(Proposer.Step.Done.class, deliver(p, prepares.get(1)));
        Acceptor.Transition<PaxosMessage.PrepareReply> late = Acceptor.prepare(acceptors.get("c"), b);
        assertEquals(List.of(new Proposer.Envelope("c", new PaxosMessage.Commit(K, acceptors.get("a").committed()))),
                p.lateRepairs(prepares.get(2), late.reply()));
        assertTrue(p.lateRepairs(prepares.get(0), new PaxosMessage.Promised(b, null, acceptors.get("a").committed())).isEmpty(),
                "an up-to-date replica needs nothing");
    }

    /** The register reads of the read started last ({@link #startRead}), by replica. */
    final Map<String, Proposer.Envelope> readsSent = new TreeMap<>();

    /** Starts a read: it begins with a read of every replica's registers, not with a prepare. */
    Proposer startRead() {
        Proposer p = new Proposer(K, new Proposer.Op.Read(), List.of("a", "b", "c"), quorumOf(2));
        Proposer.Step.Send first = assertInstanceOf(Proposer.Step.Send.class, p.start(next(null)));
        assertEquals(List.of("a", "b", "c"), first.messages().stream().map(Proposer.Envelope::to).toList());
        first.messages().forEach(e -> assertEquals(new PaxosMessage.ReadCommitted(K), e.request()));
        readsSent.clear();
        first.messages().forEach(e -> readsSent.put(e.to(), e));
        return p;
    }

    /** Delivers the register read sent to {@code to}. */
    Proposer.Step readFrom(Proposer p, String to) {
        return deliver(p, readsSent.get(to));
    }

    @Test
    void aReadCountsOnlyItsOwnRegisterReadsNotAnEarlierAttemptsLateSilence() {
        run(write("v1"), 2);
        Proposer p = startRead();
        Proposer.Envelope earlier = new Proposer.Envelope("a", new PaxosMessage.ReadCommitted(K)); // equal, not the same
        assertInstanceOf(Proposer.Step.Waiting.class, p.onNoReply(earlier), "not a request of this attempt");
        assertInstanceOf(Proposer.Step.Waiting.class, p.onNoReply(new Proposer.Envelope("b", new PaxosMessage.ReadCommitted(K))));
        assertInstanceOf(Proposer.Step.Waiting.class, readFrom(p, "a"));
        assertInstanceOf(Proposer.Step.Done.class, readFrom(p, "b"), "a and b answered: a quorum");
    }

    @Test
    void aReadWithNothingInFlightIsAnsweredByAQuorumsRegistersAndWritesNoPromise() {
        Ballot v1 = ((Proposer.Outcome.Written) run(write("v1"), 2)).version();
        Map<String, KeyState> before = new TreeMap<>(acceptors);
        Proposer p = startRead();
        assertInstanceOf(Proposer.Step.Waiting.class, readFrom(p, "a"), "one replica's registers are not a quorum's");
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, readFrom(p, "b"));
        assertEquals(v1, ((Proposer.Outcome.Read) done.outcome()).committed().version());
        assertTrue(done.repairs().isEmpty());
        assertEquals(before, acceptors, "no promise, nothing written anywhere");
    }

    @Test
    void aReadFindingAValueAcceptedAboveTheNewestCommitTakesTheFullPathAndFinishesIt() {
        Ballot v1 = ((Proposer.Outcome.Written) run(write("v1"), 2)).version();
        // a write of "v2" was answered (a and b accepted it) and its commits were lost
        Proposal v2 = new Proposal(new Ballot(v1.counter() + 5, "other"), "v2".getBytes());
        acceptors.put("a", Acceptor.accept(acceptors.get("a"), v2).next());
        acceptors.put("b", Acceptor.accept(acceptors.get("b"), v2).next());
        Proposer p = startRead();
        assertInstanceOf(Proposer.Step.Waiting.class, readFrom(p, "c"));
        Proposer.Step.Send prepares = assertInstanceOf(Proposer.Step.Send.class, readFrom(p, "b"),
                "b reports v2 accepted above the newest commit v1: c's v1 may not be answered");
        prepares.messages().forEach(e -> assertInstanceOf(PaxosMessage.Prepare.class, e.request()));
        down.add("a");
        Proposal read = ((Proposer.Outcome.Read) run(new Proposer.Op.Read(), 2)).committed();
        assertArrayEquals("v2".getBytes(), read.value(), "the full path finishes it");
        reads = 0;
        Proposal again = ((Proposer.Outcome.Read) run(new Proposer.Op.Read(), 2)).committed();
        assertEquals(read.version(), again.version());
        assertEquals(2, reads, "and the next read is answered by the registers of b and c alone (both committed v2)");
    }

    @Test
    void aReadAnswersTheNewestCommitOfItsQuorumAndRepairsTheLaggard() {
        Ballot v1 = ((Proposer.Outcome.Written) run(write("v1"), 2)).version();
        Proposal v2 = new Proposal(new Ballot(v1.counter() + 5, "other"), "v2".getBytes());
        // v2 chosen (a and b accepted it); only a's commit landed so far
        acceptors.put("a", Acceptor.commit(Acceptor.accept(acceptors.get("a"), v2).next(), v2));
        acceptors.put("b", Acceptor.accept(acceptors.get("b"), v2).next());
        Proposer p = startRead();
        readFrom(p, "b");
        Proposer.Step.Done done = assertInstanceOf(Proposer.Step.Done.class, readFrom(p, "a"),
                "b's accepted v2 is not above the newest commit (a's v2)");
        assertEquals(v2, ((Proposer.Outcome.Read) done.outcome()).committed());
        assertEquals(List.of(new Proposer.Envelope("b", new PaxosMessage.Commit(K, v2))), done.repairs());
        assertEquals(List.of(new Proposer.Envelope("c", new PaxosMessage.Commit(K, v2))),
                p.lateRepairs(readsSent.get("c"), new PaxosMessage.State(acceptors.get("c"))),
                "a late register read from c, still at v1, earns c the commit too");
    }

    /**
     * Found by the Paxos simulator (see docs/PAXOS.md): a rival that finishes an already chosen write
     * under its own ballot must not give it a second version, or the version its writer acknowledged
     * vanishes and a compare-and-set on it fails although nothing else was written.
     */
    @Test
    void aRivalsReproposalKeepsTheAcknowledgedVersion() {
        Proposer writer = new Proposer(K, write("x"), List.of("a", "b", "c"), quorumOf(2));
        Ballot b1 = next(null);
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) writer.start(b1)).messages();
        deliver(writer, prepares.get(0));
        List<Proposer.Envelope> accepts = ((Proposer.Step.Send) deliver(writer, prepares.get(1))).messages();
        deliver(writer, accepts.get(0));
        Proposer.Step.Done acked = assertInstanceOf(Proposer.Step.Done.class, deliver(writer, accepts.get(1)));
        // "x" is chosen under b1 (a and b accepted it); before the writer's commits land, a rival read
        // prepares b and c: b reports "x" accepted but not committed, so the rival re-proposes it under b2
        down.add("a");
        Proposal seenByRival = ((Proposer.Outcome.Read) run(new Proposer.Op.Read(), 2)).committed();
        down.clear();
        assertArrayEquals("x".getBytes(), seenByRival.value());
        assertNotEquals(b1, seenByRival.ballot(), "the rival finished it under its own ballot");
        assertEquals(b1, seenByRival.version(), "but the write keeps its version");
        acked.repairs().forEach(e -> deliver(writer, e)); // the writer's commits land after the rival's
        Proposer.Outcome.Written written = assertInstanceOf(Proposer.Outcome.Written.class, acked.outcome());
        assertEquals(b1, written.version(), "the writer's client is told version b1");
        Proposal now = ((Proposer.Outcome.Read) run(new Proposer.Op.Read(), 2)).committed();
        assertArrayEquals("x".getBytes(), now.value());
        assertEquals(b1, now.version(), "the acknowledged version is the current one");
        assertInstanceOf(Proposer.Outcome.Written.class,
                run(new Proposer.Op.Write("y".getBytes(), new Precondition.VersionIn(List.of(b1))), 2),
                "nothing else was written, so a compare-and-set on the acknowledged version succeeds");
    }
}
