package io.nimbus.cluster.membership;

import io.nimbus.cluster.transport.MalformedMessageException;
import io.nimbus.cluster.transport.WireStrings;

import io.nimbus.core.gossip.Digest;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.GenerationHorizon;
import io.nimbus.core.gossip.GossipMessage;
import io.nimbus.core.gossip.NodeInfo;
import io.nimbus.core.gossip.NodeRole;
import io.nimbus.core.gossip.NodeState;
import io.nimbus.core.gossip.NodeStatus;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The compact binary form of gossip messages. Strings are u16-length UTF-8; lists are u32-counted
 * and bounded. Anything that does not decode exactly — short, long, out-of-range values — raises
 * {@link MalformedMessageException}, and the transport closes the connection. So does a generation
 * further ahead of the receiver's clock than its {@link GenerationHorizon}
 * ({@code nimbus.gossip.generation-ahead-max-ms}): forged or corrupt.
 */
public final class GossipCodec {
    public static final int SYN = 1, ACK = 2, ACK2 = 3;
    static final int LIST_MAX = 1 << 16;
    static final int TOKENS_MAX = 4096;

    private GossipCodec() {
    }

    public static int type(GossipMessage m) {
        if (m instanceof GossipMessage.Syn) {
            return SYN;
        }
        return m instanceof GossipMessage.Ack ? ACK : ACK2;
    }

    public static byte[] encode(GossipMessage m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            if (m instanceof GossipMessage.Syn s) {
                str(out, s.from());
                endpoint(out, s.fromEndpoint());
                digests(out, s.digests());
            } else if (m instanceof GossipMessage.Ack a) {
                str(out, a.from());
                states(out, a.states());
                digests(out, a.requests());
            } else if (m instanceof GossipMessage.Ack2 a) {
                str(out, a.from());
                states(out, a.states());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: writing to memory", e);
        }
        return bytes.toByteArray();
    }

    /** Decodes a message, refused if a generation in it is beyond {@code horizon} of {@code nowMs} (the receiver's clock). */
    public static GossipMessage decode(int type, byte[] body, GenerationHorizon horizon, long nowMs) {
        GossipMessage m = decode(type, body);
        String why = horizon.refusal(m, nowMs);
        if (why != null) {
            throw new MalformedMessageException("gossip refused: " + why);
        }
        return m;
    }

    /** Decodes a message's form only (no plausibility check): for tests and tools. */
    static GossipMessage decode(int type, byte[] body) {
        ByteBuffer in = ByteBuffer.wrap(body);
        try {
            GossipMessage m = switch (type) {
                case SYN -> {
                    String from = str(in);
                    Endpoint ep = endpoint(in);
                    yield new GossipMessage.Syn(from, ep, digests(in));
                }
                case ACK -> {
                    String from = str(in);
                    List<NodeState> states = states(in);
                    yield new GossipMessage.Ack(from, states, digests(in));
                }
                case ACK2 -> new GossipMessage.Ack2(str(in), states(in));
                default -> throw new MalformedMessageException("unknown gossip message type " + type);
            };
            if (in.hasRemaining()) {
                throw new MalformedMessageException(in.remaining() + " trailing bytes");
            }
            return m;
        } catch (BufferUnderflowException | IllegalArgumentException | NullPointerException e) {
            throw new MalformedMessageException("gossip message does not decode: " + e, e);
        }
    }

    private static void states(DataOutputStream out, List<NodeState> states) throws IOException {
        out.writeInt(states.size());
        for (NodeState s : states) {
            str(out, s.id());
            out.writeLong(s.generation());
            out.writeLong(s.heartbeat());
            out.writeLong(s.infoVersion());
            NodeInfo i = s.info();
            endpoint(out, i.endpoint());
            out.writeShort(i.httpPort());
            out.writeByte(i.role().ordinal());
            out.writeByte(i.status().ordinal());
            out.writeInt(i.tokens().size());
            for (long t : i.tokens()) {
                out.writeLong(t);
            }
            str(out, i.hostId());
            out.writeLong(i.topologyEpoch());
        }
    }

    private static List<NodeState> states(ByteBuffer in) {
        int n = count(in);
        List<NodeState> out = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            String id = str(in);
            long gen = in.getLong();
            long hb = in.getLong();
            long iv = in.getLong();
            Endpoint ep = endpoint(in);
            int http = Short.toUnsignedInt(in.getShort());
            NodeRole role = enumAt(NodeRole.values(), in.get());
            NodeStatus status = enumAt(NodeStatus.values(), in.get());
            int tn = in.getInt();
            if (tn < 0 || tn > TOKENS_MAX) {
                throw new MalformedMessageException("token count " + tn + " out of range");
            }
            List<Long> tokens = new ArrayList<>(tn);
            for (int t = 0; t < tn; t++) {
                tokens.add(in.getLong());
            }
            String host = str(in);
            long epoch = in.getLong();
            out.add(new NodeState(id, gen, hb, iv, new NodeInfo(ep, http, role, status, tokens, host, epoch)));
        }
        return out;
    }

    private static <E> E enumAt(E[] values, byte b) {
        if (b < 0 || b >= values.length) {
            throw new MalformedMessageException("enum ordinal " + b + " out of range");
        }
        return values[b];
    }

    private static void digests(DataOutputStream out, List<Digest> ds) throws IOException {
        out.writeInt(ds.size());
        for (Digest d : ds) {
            digest(out, d);
        }
    }

    private static List<Digest> digests(ByteBuffer in) {
        int n = count(in);
        List<Digest> ds = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ds.add(digest(in));
        }
        return ds;
    }

    private static void digest(DataOutputStream out, Digest d) throws IOException {
        str(out, d.id());
        out.writeLong(d.generation());
        out.writeLong(d.maxVersion());
    }

    private static Digest digest(ByteBuffer in) {
        return new Digest(str(in), in.getLong(), in.getLong());
    }

    private static void endpoint(DataOutputStream out, Endpoint e) throws IOException {
        str(out, e.host());
        out.writeShort(e.port());
    }

    private static Endpoint endpoint(ByteBuffer in) {
        return new Endpoint(str(in), Short.toUnsignedInt(in.getShort()));
    }

    private static void str(DataOutputStream out, String s) throws IOException {
        WireStrings.write(out, s);
    }

    private static String str(ByteBuffer in) {
        return WireStrings.read(in);
    }

    private static int count(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > LIST_MAX || n > in.remaining()) {
            throw new MalformedMessageException("list count " + n + " out of range");
        }
        return n;
    }
}
