package io.nimbus.cluster.replica;

import io.nimbus.cluster.transport.MalformedMessageException;
import io.nimbus.cluster.transport.WireStrings;
import io.nimbus.cluster.membership.GossipCodec;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.BallotHorizon;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.topology.HostId;
import io.nimbus.storage.KeyStateCodec;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The binary form of Paxos requests and replies on the cluster port; exact decoding, like {@link GossipCodec}.
 * Every message starts with a header: {@code u8 protocol version, i64 epoch, uuid host} — for a request
 * the coordinator's topology epoch and the host id of the replica it is meant for, for a reply the
 * replier's epoch and host id. A peer speaking another protocol version is refused with a message that
 * says so (a cluster of mixed versions is not supported).
 *
 * <p>A message carrying a ballot further ahead of the receiver's clock than its {@link BallotHorizon}
 * ({@code nimbus.paxos.ballot-ahead-max-ms}) is malformed: a request so refused never reaches the acceptor
 * (the transport closes the connection), a reply so refused counts as no answer.
 */
public final class PaxosCodec {
    /** Version 2: epochs and host ids in every message, the fence reply. (Version 1 had no header.) */
    public static final int PROTOCOL = 2;
    public static final int PREPARE = 16, PROPOSE = 17, COMMIT = 18, READ = 19;
    /** Commits to one replica in one frame, ahead of one request to it or alone ({@link Bundle}). */
    public static final int BUNDLE = 20;
    /** Most commits one bundle may carry (a bundle is also bounded by the frame size). */
    public static final int BUNDLE_COMMITS_MAX = 4096;
    public static final int PROMISED = 32, ACCEPTED = 33, REJECTED = 34, COMMITTED = 35, STATE = 36, FENCED = 37;
    private static final HostId NO_HOST = new HostId(new UUID(0, 0));

    private PaxosCodec() {
    }

    /** A request as sent: the coordinator's epoch and the host id of the replica it is for. */
    public record Addressed(long epoch, HostId target, PaxosMessage.Request request) {
    }

    /** A reply as received: the replier's epoch and host id. */
    public record Answer(long epoch, HostId from, PaxosMessage reply) {
    }

    /**
     * What a coordinator sends one replica in one frame: commits it owes that replica (fire-and-forget: a lost
     * commit is a lost message, which Paxos tolerates), applied in order before {@code main}, the one request
     * that is answered; without {@code main} the answer is the last commit's.
     */
    public record Bundle(List<Addressed> commits, Addressed main) {
        public Bundle {
            commits = List.copyOf(commits);
        }
    }

    /**
     * A bundle's frame body: {@code u8 version, i32 count, count × (i32 length, an encoded COMMIT)}, then
     * {@code u8 type} of the request it carries (0: none) and that request's encoding ({@link #encode(Addressed)}).
     * Takes already encoded commits, so that a coordinator encodes each once, when it is owed.
     */
    public static byte[] encodeBundle(List<byte[]> commits, int mainType, byte[] main) {
        if (commits.size() > BUNDLE_COMMITS_MAX) {
            throw new IllegalArgumentException(commits.size() + " commits in one bundle; at most " + BUNDLE_COMMITS_MAX);
        }
        int size = 1 + 4 + 1 + (main == null ? 0 : main.length);
        for (byte[] c : commits) {
            size += 4 + c.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put((byte) PROTOCOL).putInt(commits.size());
        for (byte[] c : commits) {
            out.putInt(c.length).put(c);
        }
        out.put((byte) (main == null ? 0 : mainType));
        if (main != null) {
            out.put(main);
        }
        return out.array();
    }

    /** A bundle, refused whole if any message in it is malformed or carries a ballot beyond {@code horizon}. */
    public static Bundle decodeBundle(byte[] body, BallotHorizon horizon, long nowMicros) {
        ByteBuffer in = ByteBuffer.wrap(body);
        try {
            version(in);
            int count = in.getInt();
            if (count < 0 || count > BUNDLE_COMMITS_MAX) {
                throw new MalformedMessageException("a bundle of " + count + " commits (at most " + BUNDLE_COMMITS_MAX + ")");
            }
            List<Addressed> commits = new ArrayList<>(Math.min(count, 64));
            for (int i = 0; i < count; i++) {
                int len = in.getInt();
                if (len < 0 || len > in.remaining()) {
                    throw new MalformedMessageException("commit " + i + " of a bundle: length " + len + " exceeds the message");
                }
                byte[] one = new byte[len];
                in.get(one);
                commits.add(decodeRequest(COMMIT, one, horizon, nowMicros));
            }
            int mainType = Byte.toUnsignedInt(in.get());
            Addressed main = null;
            if (mainType != 0) {
                if (mainType == BUNDLE || mainType < PREPARE || mainType > READ) {
                    throw new MalformedMessageException("a bundle carrying message type " + mainType + " (not a request)");
                }
                byte[] rest = new byte[in.remaining()];
                in.get(rest);
                main = decodeRequest(mainType, rest, horizon, nowMicros);
            } else if (in.hasRemaining()) {
                throw new MalformedMessageException(in.remaining() + " trailing bytes after a bundle");
            }
            return new Bundle(commits, main);
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("Paxos bundle does not decode: " + e, e);
        }
    }

    public static boolean isPaxos(int type) {
        return type >= PREPARE && type <= FENCED;
    }

    public static byte[] encode(Addressed a) {
        return encode(a.epoch(), a.target(), a.request());
    }

    public static byte[] encode(Answer a) {
        return encode(a.epoch(), a.from() == null ? NO_HOST : a.from(), a.reply());
    }

    /** A request, refused if a ballot in it is beyond {@code horizon} of {@code nowMicros} (the receiver's clock). */
    public static Addressed decodeRequest(int type, byte[] body, BallotHorizon horizon, long nowMicros) {
        ByteBuffer in = ByteBuffer.wrap(body);
        long epoch = header(in);
        HostId host = host(in);
        if (!(decode(type, in) instanceof PaxosMessage.Request r)) {
            throw new MalformedMessageException("a peer sent a Paxos reply (type " + type + ") as a request");
        }
        plausible(r, horizon, nowMicros);
        return new Addressed(epoch, host, r);
    }

    /** A reply, refused if a ballot in it is beyond {@code horizon} of {@code nowMicros} (the receiver's clock). */
    public static Answer decodeReply(int type, byte[] body, BallotHorizon horizon, long nowMicros) {
        ByteBuffer in = ByteBuffer.wrap(body);
        long epoch = header(in);
        HostId host = host(in);
        PaxosMessage m = decode(type, in);
        if (m instanceof PaxosMessage.Request) {
            throw new MalformedMessageException("a peer answered with a Paxos request (type " + type + ")");
        }
        plausible(m, horizon, nowMicros);
        return new Answer(epoch, host.equals(NO_HOST) ? null : host, m);
    }

    private static void plausible(PaxosMessage m, BallotHorizon horizon, long nowMicros) {
        String why = horizon.refusal(m, nowMicros);
        if (why != null) {
            throw new MalformedMessageException("Paxos " + m.getClass().getSimpleName() + " refused: " + why);
        }
    }

    private static void version(ByteBuffer in) {
        int version = Byte.toUnsignedInt(in.get());
        if (version != PROTOCOL) {
            throw new MalformedMessageException("peer speaks Nimbus cluster protocol " + version + ", this node "
                    + PROTOCOL + ": every node of a cluster must run the same version");
        }
    }

    private static long header(ByteBuffer in) {
        try {
            version(in);
            return in.getLong();
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("Paxos message shorter than its header", e);
        }
    }

    private static HostId host(ByteBuffer in) {
        try {
            return new HostId(new UUID(in.getLong(), in.getLong()));
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("Paxos message shorter than its header", e);
        }
    }

    public static int type(PaxosMessage m) {
        if (m instanceof PaxosMessage.Prepare) {
            return PREPARE;
        } else if (m instanceof PaxosMessage.Propose) {
            return PROPOSE;
        } else if (m instanceof PaxosMessage.Commit) {
            return COMMIT;
        } else if (m instanceof PaxosMessage.ReadCommitted) {
            return READ;
        } else if (m instanceof PaxosMessage.Promised) {
            return PROMISED;
        } else if (m instanceof PaxosMessage.Accepted) {
            return ACCEPTED;
        } else if (m instanceof PaxosMessage.Rejected) {
            return REJECTED;
        } else if (m instanceof PaxosMessage.Committed) {
            return COMMITTED;
        } else if (m instanceof PaxosMessage.Fenced) {
            return FENCED;
        }
        return STATE;
    }

    private static byte[] encode(long epoch, HostId host, PaxosMessage m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(PROTOCOL);
            out.writeLong(epoch);
            out.writeLong(host.uuid().getMostSignificantBits());
            out.writeLong(host.uuid().getLeastSignificantBits());
            if (m instanceof PaxosMessage.Fenced f) {
                out.writeLong(f.epoch());
                out.writeBoolean(f.notMember());
            } else if (m instanceof PaxosMessage.Prepare p) {
                str(out, p.key());
                ballot(out, p.ballot());
            } else if (m instanceof PaxosMessage.Propose p) {
                str(out, p.key());
                proposal(out, p.proposal());
            } else if (m instanceof PaxosMessage.Commit c) {
                str(out, c.key());
                proposal(out, c.proposal());
            } else if (m instanceof PaxosMessage.ReadCommitted r) {
                str(out, r.key());
            } else if (m instanceof PaxosMessage.Promised p) {
                ballot(out, p.ballot());
                optionalProposal(out, p.accepted());
                optionalProposal(out, p.committed());
            } else if (m instanceof PaxosMessage.Accepted a) {
                ballot(out, a.ballot());
            } else if (m instanceof PaxosMessage.Rejected r) {
                ballot(out, r.promised());
            } else if (m instanceof PaxosMessage.State s) {
                out.write(KeyStateCodec.encode(s.state()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: writing to memory", e);
        }
        return bytes.toByteArray();
    }

    private static PaxosMessage decode(int type, ByteBuffer in) {
        try {
            PaxosMessage m = switch (type) {
                case PREPARE -> new PaxosMessage.Prepare(str(in), ballot(in));
                case PROPOSE -> new PaxosMessage.Propose(str(in), proposal(in));
                case COMMIT -> new PaxosMessage.Commit(str(in), proposal(in));
                case READ -> new PaxosMessage.ReadCommitted(str(in));
                case PROMISED -> new PaxosMessage.Promised(ballot(in), optionalProposal(in), optionalProposal(in));
                case ACCEPTED -> new PaxosMessage.Accepted(ballot(in));
                case REJECTED -> new PaxosMessage.Rejected(ballot(in));
                case COMMITTED -> new PaxosMessage.Committed();
                case FENCED -> {
                    long epoch = in.getLong();
                    byte notMember = in.get();
                    if (notMember != 0 && notMember != 1) {
                        throw new MalformedMessageException("bad not-member flag " + notMember);
                    }
                    yield new PaxosMessage.Fenced(epoch, notMember == 1);
                }
                case STATE -> {
                    byte[] rest = new byte[in.remaining()];
                    in.get(rest);
                    yield new PaxosMessage.State(KeyStateCodec.decode(rest));
                }
                default -> throw new MalformedMessageException("unknown Paxos message type " + type);
            };
            if (in.hasRemaining()) {
                throw new MalformedMessageException(in.remaining() + " trailing bytes");
            }
            return m;
        } catch (BufferUnderflowException | IllegalArgumentException | NullPointerException
                 | KeyStateCodec.CorruptRecordException e) {
            throw new MalformedMessageException("Paxos message does not decode: " + e, e);
        }
    }

    private static void ballot(DataOutputStream out, Ballot b) throws IOException {
        out.writeLong(b.counter());
        str(out, b.nodeId());
    }

    private static Ballot ballot(ByteBuffer in) {
        return new Ballot(in.getLong(), str(in));
    }

    private static void proposal(DataOutputStream out, Proposal p) throws IOException {
        ballot(out, p.ballot());
        ballot(out, p.version());
        out.writeBoolean(p.isTombstone());
        if (!p.isTombstone()) {
            out.writeInt(p.value().length);
            out.write(p.value());
        }
    }

    private static Proposal proposal(ByteBuffer in) {
        Ballot b = ballot(in);
        Ballot version = ballot(in);
        byte tomb = in.get();
        if (tomb == 1) {
            return new Proposal(b, version, null);
        }
        if (tomb != 0) {
            throw new MalformedMessageException("bad tombstone flag " + tomb);
        }
        int len = in.getInt();
        if (len < 0 || len > in.remaining()) {
            throw new MalformedMessageException("value length " + len + " exceeds the message");
        }
        byte[] v = new byte[len];
        in.get(v);
        return new Proposal(b, version, v);
    }

    private static void optionalProposal(DataOutputStream out, Proposal p) throws IOException {
        out.writeBoolean(p != null);
        if (p != null) {
            proposal(out, p);
        }
    }

    private static Proposal optionalProposal(ByteBuffer in) {
        byte present = in.get();
        if (present != 0 && present != 1) {
            throw new MalformedMessageException("bad presence flag " + present);
        }
        return present == 1 ? proposal(in) : null;
    }

    private static void str(DataOutputStream out, String s) throws IOException {
        WireStrings.write(out, s);
    }

    private static String str(ByteBuffer in) {
        return WireStrings.read(in);
    }
}
