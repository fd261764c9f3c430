package io.nimbus.cluster.membership;

import io.nimbus.cluster.transport.MalformedMessageException;

import io.nimbus.core.gossip.Digest;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.GenerationHorizon;
import io.nimbus.core.gossip.GossipMessage;
import io.nimbus.core.gossip.NodeInfo;
import io.nimbus.core.gossip.NodeRole;
import io.nimbus.core.gossip.NodeState;
import io.nimbus.core.gossip.NodeStatus;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GossipCodecTest {
    static final NodeState A = new NodeState("node-a", 1795253262580L, 42, 7,
            new NodeInfo(new Endpoint("127.0.0.1", 9081), 8081, NodeRole.WORKER, NodeStatus.NORMAL, List.of(-5L, 0L, Long.MAX_VALUE)));
    static final NodeState B = new NodeState("prøxy-β", 3, 1, 1,
            new NodeInfo(new Endpoint("::1", 65535), 0, NodeRole.PROXY, NodeStatus.LEFT, List.of()));

    static final List<GossipMessage> SAMPLES = List.of(
            new GossipMessage.Syn("node-a", new Endpoint("127.0.0.1", 9081), List.of(A.digest(), B.digest())),
            new GossipMessage.Syn("x", new Endpoint("h", 1), List.of()),
            new GossipMessage.Ack("node-b", List.of(A, B), List.of(new Digest("c", -1, -1))),
            new GossipMessage.Ack("node-b", List.of(), List.of()),
            new GossipMessage.Ack2("node-a", List.of(B)));

    @Test
    void everyMessageRoundTrips() {
        for (GossipMessage m : SAMPLES) {
            assertEquals(m, GossipCodec.decode(GossipCodec.type(m), GossipCodec.encode(m)));
        }
    }

    @Test
    void everyTruncationIsMalformedNeverAnotherError() {
        for (GossipMessage m : SAMPLES) {
            byte[] full = GossipCodec.encode(m);
            for (int len = 0; len < full.length; len++) {
                byte[] cut = Arrays.copyOf(full, len);
                assertThrows(MalformedMessageException.class, () -> GossipCodec.decode(GossipCodec.type(m), cut),
                        m + " cut to " + len);
            }
        }
    }

    @Test
    void trailingBytesAndUnknownTypesAreMalformed() {
        byte[] full = GossipCodec.encode(SAMPLES.get(0));
        assertThrows(MalformedMessageException.class,
                () -> GossipCodec.decode(GossipCodec.SYN, Arrays.copyOf(full, full.length + 1)));
        assertThrows(MalformedMessageException.class, () -> GossipCodec.decode(99, full));
    }

    @Test
    void garbageIsMalformedOrDecodesButNeverThrowsAnythingElse() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < 20_000; i++) {
            byte[] junk = new byte[r.nextInt(64)];
            for (int k = 0; k < junk.length; k++) {
                junk[k] = (byte) r.nextInt(256);
            }
            int type = 1 + r.nextInt(3);
            try {
                GossipCodec.decode(type, junk);
            } catch (MalformedMessageException expected) {
                // the only acceptable failure
            }
        }
        // flipping single bytes of a valid message never escapes as another exception type either
        byte[] valid = GossipCodec.encode(SAMPLES.get(2));
        for (int pos = 0; pos < valid.length; pos++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] flipped = valid.clone();
                flipped[pos] ^= (byte) (1 << bit);
                try {
                    GossipCodec.decode(GossipCodec.ACK, flipped);
                } catch (MalformedMessageException expected) {
                    // fine
                }
            }
        }
    }

    @Test
    void aForgedGenerationFarAheadOfTheReceiversClockIsMalformedInEveryMessage() {
        long now = A.generation(); // the receiver's clock (ms); A is a node that started just now
        GenerationHorizon hour = new GenerationHorizon(3_600_000);
        for (GossipMessage m : SAMPLES) {
            assertEquals(m, GossipCodec.decode(GossipCodec.type(m), GossipCodec.encode(m), hour, now));
        }
        long elevenDays = 11L * 24 * 3600 * 1000;
        NodeState forgedLeft = new NodeState("node-a", now + elevenDays, 1, 1,
                new NodeInfo(A.info().endpoint(), 8081, NodeRole.WORKER, NodeStatus.LEFT, List.of()));
        List<GossipMessage> forged = List.of(
                new GossipMessage.Ack2("forger", List.of(B, forgedLeft)),
                new GossipMessage.Ack("forger", List.of(forgedLeft), List.of()),
                new GossipMessage.Ack("forger", List.of(), List.of(forgedLeft.digest())),
                new GossipMessage.Syn("forger", new Endpoint("h", 1), List.of(A.digest(), forgedLeft.digest())));
        for (GossipMessage m : forged) {
            MalformedMessageException e = assertThrows(MalformedMessageException.class,
                    () -> GossipCodec.decode(GossipCodec.type(m), GossipCodec.encode(m), hour, now), m.toString());
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("generation-ahead-max-ms"), e.getMessage());
        }
        // clock skew up to the bound is not forgery
        GossipMessage skewed = new GossipMessage.Ack2("b", List.of(new NodeState("node-a", now + 3_600_000, 1, 1, A.info())));
        assertEquals(skewed, GossipCodec.decode(GossipCodec.ACK2, GossipCodec.encode(skewed), hour, now));
        assertThrows(MalformedMessageException.class, () -> GossipCodec.decode(GossipCodec.ACK2, GossipCodec.encode(skewed),
                hour, now - 1));
    }
}
