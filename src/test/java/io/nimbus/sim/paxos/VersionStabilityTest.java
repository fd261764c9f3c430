package io.nimbus.sim.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.paxos.Proposer;
import io.nimbus.lin.Result;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * <b>A write's version is stable.</b> The simulator found that a value's version used to be the ballot it was
 * accepted under, and a proposer that finds a value accepted but not committed re-proposes it under its own
 * ballot: if that value was chosen meanwhile, its own proposer still acknowledged version b1 while the
 * register kept b2, and a compare-and-set on b1 failed although nothing else was written. A proposal now
 * carries its version apart from its ballot, and a re-proposal keeps it ({@code Proposal.reproposed}).
 * These tests fail on the old core: the scripted one at the version check, the sweep with the strict gate.
 */
class VersionStabilityTest {
    static final String K = "k";
    final Map<String, KeyState> acceptors = new TreeMap<>(Map.of("a", KeyState.EMPTY, "b", KeyState.EMPTY, "c", KeyState.EMPTY));
    long clock = 1000;

    @Test
    void aRivalsReproposalKeepsTheAcknowledgedVersion() {
        Proposer writer = new Proposer(K, new Proposer.Op.Write("x".getBytes(), Precondition.NONE), List.of("a", "b", "c"), 2);
        Ballot b1 = new Ballot(100, "w");
        List<Proposer.Envelope> prepares = ((Proposer.Step.Send) writer.start(b1)).messages();
        deliver(writer, prepares.get(0));
        List<Proposer.Envelope> accepts = ((Proposer.Step.Send) deliver(writer, prepares.get(1))).messages();
        deliver(writer, accepts.get(0));
        List<Proposer.Envelope> commits = ((Proposer.Step.Send) deliver(writer, accepts.get(1))).messages();
        // "x" is chosen under b1 (a and b accepted it); before the writer's commits land, a rival read
        // prepares b and c: b reports "x" accepted but not committed, so the rival re-proposes it under b2
        Proposal seenByRival = ((Proposer.Outcome.Read) run(new Proposer.Op.Read(), List.of("a"))).committed();
        assertArrayEquals("x".getBytes(), seenByRival.value());
        assertNotEquals(b1, seenByRival.ballot(), "the rival finished it under its own ballot");
        assertEquals(b1, seenByRival.version(), "but the write keeps its version");
        Proposer.Step last = null;
        for (Proposer.Envelope e : commits) {
            Proposer.Step s = deliver(writer, e);
            last = s instanceof Proposer.Step.Waiting ? last : s;
        }
        Proposer.Outcome.Written written = assertInstanceOf(Proposer.Outcome.Written.class,
                assertInstanceOf(Proposer.Step.Done.class, last).outcome());
        assertEquals(b1, written.version(), "the writer's client is told version b1");

        Proposal now = ((Proposer.Outcome.Read) run(new Proposer.Op.Read(), List.of())).committed();
        assertArrayEquals("x".getBytes(), now.value());
        assertEquals(b1, now.version(), "the acknowledged version is the current one");
        assertInstanceOf(Proposer.Outcome.Written.class,
                run(new Proposer.Op.Write("y".getBytes(), new Precondition.VersionIn(List.of(b1))), List.of()),
                "nothing else was written, so a compare-and-set on the acknowledged version succeeds");
    }

    @Test
    void theSimulatorFindsNoWriteWithTwoVersions() {
        // (a write is still often chosen under two ballots; what matters is that it has one version)
        for (long seed = 0; seed < 50; seed++) {
            SeedResult r = PaxosSim.run(seed, Variant.CORRECT, EnumSet.allOf(Check.class));
            assertFalse(r.violations().containsKey(Check.VERSION_STABILITY), r::report);
        }
    }

    // ---- three in-memory acceptors, messages delivered at once ------------------------------------------

    /** Runs an operation to the end with every message delivered, except to the replicas in {@code down}. */
    private Proposer.Outcome run(Proposer.Op op, List<String> down) {
        Proposer p = new Proposer(K, op, List.of("a", "b", "c"), 2);
        Deque<Proposer.Step> work = new ArrayDeque<>(List.of(p.start(new Ballot(clock += 100, "r"))));
        while (!work.isEmpty()) {
            Proposer.Step s = work.poll();
            if (s instanceof Proposer.Step.Done d) {
                return d.outcome();
            }
            if (s instanceof Proposer.Step.Restart) {
                work.clear();
                work.add(p.start(new Ballot(clock += 100, "r")));
            } else if (s instanceof Proposer.Step.Send send) {
                send.repairs().forEach(e -> deliver(p, e));
                for (Proposer.Envelope e : send.messages()) {
                    work.add(down.contains(e.to()) ? p.onNoReply(e) : deliver(p, e));
                }
            } else if (s instanceof Proposer.Step.Failed f) {
                throw new AssertionError(f.why());
            }
        }
        throw new AssertionError("stalled");
    }

    private Proposer.Step deliver(Proposer p, Proposer.Envelope e) {
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
        acceptors.put(e.to(), Acceptor.commit(s, ((PaxosMessage.Commit) e.request()).proposal()));
        return p.onReply(e, new PaxosMessage.Committed());
    }
}
