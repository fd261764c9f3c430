package io.nimbus.storage;

import io.nimbus.cluster.transport.WireStrings;
import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.topology.Electorate;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Operation;
import io.nimbus.core.topology.Replica;
import io.nimbus.core.topology.Retired;
import io.nimbus.core.topology.Topology;
import io.nimbus.core.topology.Worker;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The binary form of a {@link Topology}, the same on disk (each node's held topology, the register's
 * value) and on the wire (topology fetch). Format 2 (format 1, still read, ends after {@code retired}):
 * <pre>
 *   u8 format (=1), uuid clusterId, i64 epoch, u16 rf
 *   u16 workers × (str name, uuid host, str address host, u16 port, u16 httpPort, u16 tokens × i64)
 *   u8 current × (str name, uuid host), u8 next × (str name, uuid host), i64 electorateChangedAt
 *   u32 ranges × (i64 end token, i64 epoch)
 *   retired: u16 sets × (u8 names × str), u8 has-electorate, [u8 current × (str, uuid), u8 next × (str, uuid)]
 *   operation: u8 present, [u8 kind (0 JOIN, 1 LEAVE, 2 REMOVE), str node, str driver, u8 has-incoming, [worker]]
 *   departed: u16 × uuid
 *   str = u16 length + UTF-8; uuid = i64 msb, i64 lsb
 * </pre>
 * Decoding is exact: trailing bytes, a short record or a value the {@link Topology} constructor refuses
 * is {@link KeyStateCodec.CorruptRecordException}.
 */
public final class TopologyCodec {
    static final int FORMAT = 2;

    private TopologyCodec() {
    }

    public static byte[] encode(Topology t) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256 + t.workers().size() * 200);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            uuid(out, t.clusterId());
            out.writeLong(t.epoch());
            out.writeShort(t.rf());
            out.writeShort(t.workers().size());
            for (Worker w : t.workers()) {
                worker(out, w);
            }
            replicas(out, t.electorate().current());
            replicas(out, t.electorate().next());
            out.writeLong(t.electorateChangedAt());
            out.writeInt(t.changedAt().size());
            for (Map.Entry<Long, Long> e : t.changedAt().entrySet()) {
                out.writeLong(e.getKey());
                out.writeLong(e.getValue());
            }
            out.writeShort(t.retired().majorities().size());
            for (List<String> set : t.retired().majorities()) {
                out.writeByte(set.size());
                for (String name : set) {
                    str(out, name);
                }
            }
            out.writeBoolean(t.retired().electorate() != null);
            if (t.retired().electorate() != null) {
                replicas(out, t.retired().electorate().current());
                replicas(out, t.retired().electorate().next());
            }
            Operation op = t.operation().orElse(null);
            out.writeBoolean(op != null);
            if (op != null) {
                out.writeByte(op.kind().ordinal());
                str(out, op.node());
                str(out, op.driver());
                out.writeBoolean(op.incoming() != null);
                if (op.incoming() != null) {
                    worker(out, op.incoming());
                }
            }
            out.writeShort(t.departed().size());
            for (HostId h : t.departed()) {
                uuid(out, h.uuid());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: writing to memory", e);
        }
        return bytes.toByteArray();
    }

    public static Topology decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            int format = Byte.toUnsignedInt(in.get());
            if (format != FORMAT && format != 1) {
                throw new KeyStateCodec.CorruptRecordException("topology format " + format + ", this Nimbus reads 1 and " + FORMAT);
            }
            UUID cluster = uuid(in);
            long epoch = in.getLong();
            int rf = Short.toUnsignedInt(in.getShort());
            int n = Short.toUnsignedInt(in.getShort());
            List<Worker> workers = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                workers.add(worker(in));
            }
            List<Replica> current = replicas(in);
            List<Replica> next = replicas(in);
            long electorateChangedAt = in.getLong();
            int ranges = in.getInt();
            if (ranges < 0 || ranges * 16L > in.remaining()) {
                throw new KeyStateCodec.CorruptRecordException(ranges + " ranges exceed the record");
            }
            TreeMap<Long, Long> changed = new TreeMap<>();
            for (int i = 0; i < ranges; i++) {
                changed.put(in.getLong(), in.getLong());
            }
            int sets = Short.toUnsignedInt(in.getShort());
            List<List<String>> majorities = new ArrayList<>(sets);
            for (int i = 0; i < sets; i++) {
                int n2 = Byte.toUnsignedInt(in.get());
                List<String> names = new ArrayList<>(n2);
                for (int k = 0; k < n2; k++) {
                    names.add(str(in));
                }
                majorities.add(names);
            }
            byte hasElectorate = in.get();
            if (hasElectorate != 0 && hasElectorate != 1) {
                throw new KeyStateCodec.CorruptRecordException("bad retired-electorate flag " + hasElectorate);
            }
            Electorate retiredElectorate = hasElectorate == 1 ? new Electorate(replicas(in), replicas(in)) : null;
            Operation op = null;
            List<HostId> departed = new ArrayList<>();
            if (format >= 2) {
                if (flag(in, "operation") == 1) {
                    int kind = Byte.toUnsignedInt(in.get());
                    if (kind >= Operation.Kind.values().length) {
                        throw new KeyStateCodec.CorruptRecordException("unknown operation kind " + kind);
                    }
                    String node = str(in);
                    String driver = str(in);
                    Worker incoming = flag(in, "incoming worker") == 1 ? worker(in) : null;
                    op = new Operation(Operation.Kind.values()[kind], node, incoming, driver);
                }
                int gone = Short.toUnsignedInt(in.getShort());
                for (int i = 0; i < gone; i++) {
                    departed.add(new HostId(uuid(in)));
                }
            }
            if (in.hasRemaining()) {
                throw new KeyStateCodec.CorruptRecordException(in.remaining() + " trailing bytes after a topology");
            }
            return new Topology(cluster, epoch, rf, workers, new Electorate(current, next), electorateChangedAt, changed,
                    new Retired(majorities, retiredElectorate), op, departed);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new KeyStateCodec.CorruptRecordException("topology does not decode: " + e, e);
        }
    }

    private static byte flag(ByteBuffer in, String what) {
        byte b = in.get();
        if (b != 0 && b != 1) {
            throw new KeyStateCodec.CorruptRecordException("bad " + what + " flag " + b);
        }
        return b;
    }

    private static void worker(DataOutputStream out, Worker w) throws IOException {
        str(out, w.name());
        uuid(out, w.host().uuid());
        str(out, w.endpoint().host());
        out.writeShort(w.endpoint().port());
        out.writeShort(w.httpPort());
        out.writeShort(w.tokens().size());
        for (long token : w.tokens()) {
            out.writeLong(token);
        }
    }

    private static Worker worker(ByteBuffer in) {
        String name = str(in);
        HostId host = new HostId(uuid(in));
        Endpoint ep = new Endpoint(str(in), Short.toUnsignedInt(in.getShort()));
        int httpPort = Short.toUnsignedInt(in.getShort());
        int tokens = Short.toUnsignedInt(in.getShort());
        if (tokens * 8L > in.remaining()) {
            throw new KeyStateCodec.CorruptRecordException(tokens + " tokens exceed the record");
        }
        List<Long> ts = new ArrayList<>(tokens);
        for (int k = 0; k < tokens; k++) {
            ts.add(in.getLong());
        }
        return new Worker(name, host, ep, httpPort, ts);
    }

    private static void replicas(DataOutputStream out, List<Replica> rs) throws IOException {
        out.writeByte(rs.size());
        for (Replica r : rs) {
            str(out, r.name());
            uuid(out, r.host().uuid());
        }
    }

    private static List<Replica> replicas(ByteBuffer in) {
        int n = Byte.toUnsignedInt(in.get());
        List<Replica> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Replica(str(in), new HostId(uuid(in))));
        }
        return out;
    }

    private static void uuid(DataOutputStream out, UUID u) throws IOException {
        out.writeLong(u.getMostSignificantBits());
        out.writeLong(u.getLeastSignificantBits());
    }

    private static UUID uuid(ByteBuffer in) {
        return new UUID(in.getLong(), in.getLong());
    }

    private static void str(DataOutputStream out, String s) throws IOException {
        WireStrings.write(out, s);
    }

    private static String str(ByteBuffer in) {
        return WireStrings.read(in);
    }
}
