package io.nimbus.cluster.replica;

import io.nimbus.cluster.transport.MalformedMessageException;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.BallotHorizon;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.topology.HostId;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PaxosCodecTest {
    static final Ballot B = new Ballot(0x18c1f0a2b3c40L, "node-1");
    static final Proposal P = new Proposal(B, "välue".getBytes());
    static final Proposal T = Proposal.tombstone(new Ballot(7, "n2"));

    static final List<PaxosMessage> SAMPLES = List.of(
            new PaxosMessage.Prepare("key/é", B),
            new PaxosMessage.Propose("k", P),
            new PaxosMessage.Propose("k", new Proposal(B, new byte[0])),
            new PaxosMessage.Commit("k", T),
            new PaxosMessage.Propose("k", P.reproposed(new Ballot(B.counter() + 5, "n3"))),
            new PaxosMessage.Commit("k", T.reproposed(new Ballot(9, "n3"))),
            new PaxosMessage.ReadCommitted("k"),
            new PaxosMessage.Promised(B, P, T),
            new PaxosMessage.Promised(B, null, null),
            new PaxosMessage.Accepted(B),
            new PaxosMessage.Rejected(B),
            new PaxosMessage.Committed(),
            new PaxosMessage.State(new KeyState(B, P, P)),
            new PaxosMessage.State(KeyState.EMPTY),
            new PaxosMessage.Fenced(7, false),
            new PaxosMessage.Fenced(0, true));
    static final HostId H = new HostId(new java.util.UUID(0x1234, 0x5678));

    static byte[] encode(PaxosMessage m) {
        return m instanceof PaxosMessage.Request r ? PaxosCodec.encode(new PaxosCodec.Addressed(42, H, r))
                : PaxosCodec.encode(new PaxosCodec.Answer(42, H, m));
    }

    /** The receiver's clock in these tests: the sample ballot's time, so every sample is plausible. */
    static final long NOW_MICROS = B.counter();
    static final BallotHorizon HOUR = BallotHorizon.ofMillis(3_600_000);

    static PaxosMessage decode(PaxosMessage m, byte[] body) {
        if (m instanceof PaxosMessage.Request) {
            PaxosCodec.Addressed a = PaxosCodec.decodeRequest(PaxosCodec.type(m), body, HOUR, NOW_MICROS);
            assertEquals(42, a.epoch());
            assertEquals(H, a.target());
            return a.request();
        }
        PaxosCodec.Answer a = PaxosCodec.decodeReply(PaxosCodec.type(m), body, HOUR, NOW_MICROS);
        assertEquals(42, a.epoch());
        assertEquals(H, a.from());
        return a.reply();
    }

    @Test
    void everyMessageRoundTrips() {
        for (PaxosMessage m : SAMPLES) {
            assertEquals(m, decode(m, encode(m)), m.toString());
        }
    }

    @Test
    void truncationsAndTrailingBytesAreMalformed() {
        for (PaxosMessage m : SAMPLES) {
            byte[] full = encode(m);
            for (int len = 0; len < full.length; len++) {
                byte[] cut = Arrays.copyOf(full, len);
                if (m instanceof PaxosMessage.State && len == HEADER) {
                    continue; // an empty state record decodes as the empty state
                }
                assertThrows(MalformedMessageException.class, () -> decode(m, cut), m + " cut to " + len);
            }
            assertThrows(MalformedMessageException.class, () -> decode(m, Arrays.copyOf(full, full.length + 1)));
        }
        assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeRequest(99, encode(SAMPLES.get(0)), HOUR, NOW_MICROS));
    }

    static final int HEADER = 1 + 8 + 16;

    @Test
    void aPeerOfAnotherProtocolVersionIsToldSo() {
        byte[] b = encode(SAMPLES.get(0));
        b[0] = 1;
        MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> decode(SAMPLES.get(0), b));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("protocol 1, this node " + PaxosCodec.PROTOCOL),
                e.getMessage());
    }

    @Test
    void requestsAndRepliesAreNotInterchangeable() {
        assertThrows(MalformedMessageException.class,
                () -> PaxosCodec.decodeReply(PaxosCodec.PREPARE, encode(SAMPLES.get(0)), HOUR, NOW_MICROS));
        byte[] reply = encode(new PaxosMessage.Accepted(B));
        assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeRequest(PaxosCodec.ACCEPTED, reply, HOUR, NOW_MICROS));
    }

    @Test
    void aForgedBallotFarAheadOfTheReceiversClockIsMalformedWhereverItIsCarried() {
        Ballot forged = new Ballot(Long.MAX_VALUE, "forger");
        Ballot hourAndABit = new Ballot(NOW_MICROS + 3_600_000_001L, "skewed");
        Proposal ok = new Proposal(B, "v".getBytes());
        for (Ballot far : List.of(forged, hourAndABit)) {
            Proposal bad = new Proposal(far, "v".getBytes());
            List<PaxosMessage> carriers = List.of(
                    new PaxosMessage.Prepare("k", far),
                    new PaxosMessage.Propose("k", bad),
                    new PaxosMessage.Commit("k", bad),
                    new PaxosMessage.Commit("k", ok.reproposed(far)), // the ballot far ahead, the version not
                    new PaxosMessage.Promised(B, null, bad),
                    new PaxosMessage.Promised(B, bad, null),
                    new PaxosMessage.Promised(far, null, null),
                    new PaxosMessage.Accepted(far),
                    new PaxosMessage.Rejected(far),
                    new PaxosMessage.State(new KeyState(far, null, null)),
                    new PaxosMessage.State(new KeyState(far, null, bad)));
            for (PaxosMessage m : carriers) {
                MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> decode(m, encode(m)),
                        m.toString());
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("ballot-ahead-max-ms"), e.getMessage());
            }
        }
        // ordinary skew passes: exactly the horizon ahead, and anything behind
        Ballot hourAhead = new Ballot(NOW_MICROS + 3_600_000_000L, "skewed");
        assertEquals(new PaxosMessage.Commit("k", new Proposal(hourAhead, "v".getBytes())),
                decode(new PaxosMessage.Commit("k", new Proposal(hourAhead, "v".getBytes())),
                        encode(new PaxosMessage.Commit("k", new Proposal(hourAhead, "v".getBytes())))));
        assertEquals(new PaxosMessage.Prepare("k", new Ballot(1, "old")),
                decode(new PaxosMessage.Prepare("k", new Ballot(1, "old")), encode(new PaxosMessage.Prepare("k", new Ballot(1, "old")))));
    }

    @Test
    void theHorizonIsTheReceiversClockPlusTheBound() {
        byte[] prepare = encode(new PaxosMessage.Prepare("k", new Ballot(10_000_000_000L, "n")));
        assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeRequest(PaxosCodec.PREPARE, prepare,
                BallotHorizon.ofMillis(1_000), 10_000_000_000L - 1_000_001));
        assertEquals(new PaxosMessage.Prepare("k", new Ballot(10_000_000_000L, "n")), PaxosCodec.decodeRequest(
                PaxosCodec.PREPARE, prepare, BallotHorizon.ofMillis(1_000), 10_000_000_000L - 1_000_000).request());
    }

    static PaxosCodec.Addressed addressed(PaxosMessage.Request r) {
        return new PaxosCodec.Addressed(42, H, r);
    }

    @Test
    void aBundleCarriesItsCommitsInOrderAndTheRequestBehindThem() {
        List<PaxosCodec.Addressed> commits = List.of(
                addressed(new PaxosMessage.Commit("a", P)),
                new PaxosCodec.Addressed(41, new HostId(new java.util.UUID(9, 9)), new PaxosMessage.Commit("b", T)),
                addressed(new PaxosMessage.Commit("a", P.reproposed(new Ballot(B.counter() + 1, "n3")))));
        List<byte[]> encoded = commits.stream().map(PaxosCodec::encode).toList();
        for (PaxosMessage.Request main : List.of(new PaxosMessage.Prepare("c", B), new PaxosMessage.Propose("c", P),
                new PaxosMessage.Commit("c", T), new PaxosMessage.ReadCommitted("c"))) {
            PaxosCodec.Bundle b = PaxosCodec.decodeBundle(PaxosCodec.encodeBundle(encoded, PaxosCodec.type(main),
                    PaxosCodec.encode(addressed(main))), HOUR, NOW_MICROS);
            assertEquals(new PaxosCodec.Bundle(commits, addressed(main)), b, main.toString());
        }
        PaxosCodec.Bundle alone = PaxosCodec.decodeBundle(PaxosCodec.encodeBundle(encoded, 0, null), HOUR, NOW_MICROS);
        assertEquals(new PaxosCodec.Bundle(commits, null), alone);
        PaxosCodec.Bundle none = PaxosCodec.decodeBundle(PaxosCodec.encodeBundle(List.of(), PaxosCodec.PREPARE,
                PaxosCodec.encode(addressed(new PaxosMessage.Prepare("c", B)))), HOUR, NOW_MICROS);
        assertEquals(List.of(), none.commits());
    }

    @Test
    void aBundleIsRefusedWholeIfAnythingInItIsMalformed() {
        byte[] commit = PaxosCodec.encode(addressed(new PaxosMessage.Commit("a", P)));
        byte[] prepare = PaxosCodec.encode(addressed(new PaxosMessage.Prepare("c", B)));
        byte[] full = PaxosCodec.encodeBundle(List.of(commit, commit), PaxosCodec.PREPARE, prepare);
        for (int len = 0; len < full.length; len++) {
            byte[] cut = Arrays.copyOf(full, len);
            assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeBundle(cut, HOUR, NOW_MICROS), "cut to " + len);
        }
        byte[] alone = PaxosCodec.encodeBundle(List.of(commit), 0, null);
        assertThrows(MalformedMessageException.class,
                () -> PaxosCodec.decodeBundle(Arrays.copyOf(alone, alone.length + 1), HOUR, NOW_MICROS), "trailing bytes");
        // a request where a commit belongs, a reply or another bundle as the request, a count beyond the limit
        assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeBundle(
                PaxosCodec.encodeBundle(List.of(prepare), 0, null), HOUR, NOW_MICROS));
        assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeBundle(
                PaxosCodec.encodeBundle(List.of(commit), PaxosCodec.ACCEPTED, encode(new PaxosMessage.Accepted(B))),
                HOUR, NOW_MICROS));
        assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeBundle(
                PaxosCodec.encodeBundle(List.of(commit), PaxosCodec.BUNDLE, alone), HOUR, NOW_MICROS));
        byte[] huge = Arrays.copyOf(alone, alone.length);
        java.nio.ByteBuffer.wrap(huge).putInt(1, PaxosCodec.BUNDLE_COMMITS_MAX + 1);
        assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeBundle(huge, HOUR, NOW_MICROS));
        // a forged ballot in any commit refuses the whole bundle, the request behind it included
        byte[] forged = PaxosCodec.encode(addressed(new PaxosMessage.Commit("f", new Proposal(new Ballot(Long.MAX_VALUE, "x"),
                "v".getBytes()))));
        MalformedMessageException e = assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeBundle(
                PaxosCodec.encodeBundle(List.of(commit, forged), PaxosCodec.PREPARE, prepare), HOUR, NOW_MICROS));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("ballot-ahead-max-ms"), e.getMessage());
        byte[] otherVersion = Arrays.copyOf(full, full.length);
        otherVersion[0] = 1;
        assertThrows(MalformedMessageException.class, () -> PaxosCodec.decodeBundle(otherVersion, HOUR, NOW_MICROS));
    }
}
