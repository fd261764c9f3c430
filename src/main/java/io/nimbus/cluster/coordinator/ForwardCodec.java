package io.nimbus.cluster.coordinator;

import io.nimbus.cluster.transport.MalformedMessageException;
import io.nimbus.cluster.transport.WireStrings;
import io.nimbus.core.coordinator.Result;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A client write forwarded to the node that coordinates its key ({@link io.nimbus.core.coordinator.Affinity}),
 * and what became of it, on the cluster port. The answer is the {@link Result} the coordinating node reached,
 * whatever it is: a failure there is an answer, not a failed call.
 */
final class ForwardCodec {
    static final int FORWARD = 54, FORWARDED = 55;
    private static final int VERSION = 1;
    /** Precondition versions in one request at most (an {@code If-Match} list). */
    static final int VERSIONS_MAX = 64;
    /** Characters of a failure's explanation kept on the wire. */
    static final int WHY_CHARS_MAX = 4096;

    private ForwardCodec() {
    }

    record Forward(Mutation mutation, ConsistencyLevel level) {
    }

    /**
     * Whether {@code m} can be forwarded: its precondition is one this codec knows, with at most
     * {@value #VERSIONS_MAX} versions (a longer {@code If-Match} list is coordinated where it arrived).
     */
    static boolean forwardable(Mutation m) {
        Precondition pre = m.precondition();
        return pre instanceof Precondition.None || pre instanceof Precondition.Absent || pre instanceof Precondition.Present
                || pre instanceof Precondition.VersionIn v && v.versions().size() <= VERSIONS_MAX;
    }

    static byte[] encode(Forward f) {
        return write(out -> {
            out.writeByte(VERSION);
            out.writeByte(f.level().ordinal());
            Mutation m = f.mutation();
            WireStrings.write(out, m.key());
            Precondition pre = m.precondition();
            if (pre instanceof Precondition.VersionIn v) {
                if (v.versions().size() > VERSIONS_MAX) {
                    throw new IllegalArgumentException("at most " + VERSIONS_MAX + " versions in a forwarded precondition");
                }
                out.writeByte(3);
                out.writeShort(v.versions().size());
                for (Ballot b : v.versions()) {
                    ballot(out, b);
                }
            } else if (pre instanceof Precondition.Present) {
                out.writeByte(2);
            } else if (pre instanceof Precondition.Absent) {
                out.writeByte(1);
            } else if (pre instanceof Precondition.None) {
                out.writeByte(0);
            } else {
                throw new IllegalArgumentException("a precondition this codec does not know: " + pre);
            }
            out.writeBoolean(m.isDelete());
            if (!m.isDelete()) {
                out.writeInt(m.value().length);
                out.write(m.value());
            }
        });
    }

    static Forward decodeForward(byte[] body) {
        return read(body, in -> {
            version(in);
            ConsistencyLevel level = level(in.get());
            String key = WireStrings.read(in);
            Precondition pre = switch (in.get()) {
                case 0 -> Precondition.NONE;
                case 1 -> new Precondition.Absent();
                case 2 -> new Precondition.Present();
                case 3 -> {
                    int n = Short.toUnsignedInt(in.getShort());
                    if (n > VERSIONS_MAX) {
                        throw new MalformedMessageException("a forwarded write with " + n + " versions in its precondition");
                    }
                    List<Ballot> vs = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        vs.add(ballot(in));
                    }
                    yield new Precondition.VersionIn(vs);
                }
                default -> throw new MalformedMessageException("a forwarded write with an unknown precondition");
            };
            byte[] value = null;
            if (!bool(in.get())) {
                int len = in.getInt();
                if (len < 0 || len > in.remaining()) {
                    throw new MalformedMessageException("value length " + len + " exceeds the message");
                }
                value = new byte[len];
                in.get(value);
            }
            return new Forward(new Mutation(key, value, pre), level);
        });
    }

    static byte[] encode(Result r) {
        return write(out -> {
            out.writeByte(VERSION);
            if (r instanceof Result.Written w) {
                out.writeByte(1);
                ballot(out, w.version());
            } else if (r instanceof Result.PreconditionFailed p) {
                out.writeByte(2);
                out.writeBoolean(p.current() != null);
                if (p.current() != null) {
                    ballot(out, p.current());
                }
            } else if (r instanceof Result.NotFound) {
                out.writeByte(3);
            } else if (r instanceof Result.NotReady n) {
                out.writeByte(4);
                why(out, n.why());
            } else if (r instanceof Result.NotEnoughReplicas n) {
                out.writeByte(5);
                out.writeByte(n.level().ordinal());
                out.writeInt(n.needed());
                out.writeInt(n.reachable());
                why(out, n.why());
            } else if (r instanceof Result.Unavailable u) {
                out.writeByte(6);
                why(out, u.why());
            } else if (r instanceof Result.Overloaded o) {
                List<String> peers = o.peers().subList(0, Math.min(o.peers().size(), VERSIONS_MAX));
                out.writeByte(7);
                out.writeShort(peers.size());
                for (String p : peers) {
                    WireStrings.write(out, p);
                }
                why(out, o.why());
            } else if (r instanceof Result.TimedOut t) {
                out.writeByte(8);
                why(out, t.why());
            } else if (r instanceof Result.OutcomeUnknown u) {
                out.writeByte(9);
                why(out, u.why());
            } else {
                throw new IllegalArgumentException("not an answer to a forwarded write: " + r);
            }
        });
    }

    static Result decodeResult(byte[] body) {
        return read(body, in -> {
            version(in);
            return switch (in.get()) {
                case 1 -> new Result.Written(ballot(in));
                case 2 -> new Result.PreconditionFailed(bool(in.get()) ? ballot(in) : null);
                case 3 -> new Result.NotFound();
                case 4 -> new Result.NotReady(WireStrings.read(in));
                case 5 -> new Result.NotEnoughReplicas(level(in.get()), in.getInt(), in.getInt(), WireStrings.read(in));
                case 6 -> new Result.Unavailable(WireStrings.read(in));
                case 7 -> {
                    int n = Short.toUnsignedInt(in.getShort());
                    if (n > VERSIONS_MAX) {
                        throw new MalformedMessageException("an answer naming " + n + " overloaded peers");
                    }
                    List<String> peers = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        peers.add(WireStrings.read(in));
                    }
                    yield new Result.Overloaded(peers, WireStrings.read(in));
                }
                case 8 -> new Result.TimedOut(WireStrings.read(in));
                case 9 -> new Result.OutcomeUnknown(WireStrings.read(in));
                default -> throw new MalformedMessageException("a forwarded write's answer of an unknown kind");
            };
        });
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Reader<T> {
        T read(ByteBuffer in);
    }

    private static byte[] write(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: writing to memory", e);
        }
        return bytes.toByteArray();
    }

    private static <T> T read(byte[] body, Reader<T> r) {
        ByteBuffer in = ByteBuffer.wrap(body);
        T t;
        try {
            t = r.read(in);
        } catch (BufferUnderflowException | IllegalArgumentException | NullPointerException e) {
            throw new MalformedMessageException("a forwarded write's message does not decode: " + e, e);
        }
        if (in.hasRemaining()) {
            throw new MalformedMessageException(in.remaining() + " trailing bytes in a forwarded write's message");
        }
        return t;
    }

    private static void version(ByteBuffer in) {
        int v = Byte.toUnsignedInt(in.get());
        if (v != VERSION) {
            throw new MalformedMessageException("a forwarded write in version " + v + ", this node speaks " + VERSION
                    + ": every node of a cluster must run the same version");
        }
    }

    private static ConsistencyLevel level(byte b) {
        ConsistencyLevel[] all = ConsistencyLevel.values();
        if (b < 0 || b >= all.length) {
            throw new MalformedMessageException("unknown consistency level " + b);
        }
        return all[b];
    }

    private static boolean bool(byte b) {
        if (b != 0 && b != 1) {
            throw new MalformedMessageException("bad flag " + b);
        }
        return b == 1;
    }

    private static void why(DataOutputStream out, String why) throws IOException {
        WireStrings.write(out, why.length() > WHY_CHARS_MAX ? why.substring(0, WHY_CHARS_MAX) + "…" : why);
    }

    private static void ballot(DataOutputStream out, Ballot b) throws IOException {
        out.writeLong(b.counter());
        WireStrings.write(out, b.nodeId());
    }

    private static Ballot ballot(ByteBuffer in) {
        return new Ballot(in.getLong(), WireStrings.read(in));
    }
}
