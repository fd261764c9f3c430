package io.nimbus.cluster.stream;

import io.nimbus.cluster.transport.MalformedMessageException;
import io.nimbus.cluster.transport.WireStrings;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.TokenRange;
import io.nimbus.core.topology.Topology;
import io.nimbus.storage.KeyStateCodec;
import io.nimbus.storage.MapDbStore;
import io.nimbus.storage.TopologyCodec;

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
 * The stream messages on the cluster port (TOPOLOGY.md §7):
 * <pre>
 *   PULL  i64 epoch, uuid source host, u16 ranges × (i64 start, i64 end), u8 has-after [str after], u16 rows max, i32 bytes max
 *   CHUNK u8 more, u32 rows × (str key, u32 length, KeyStateCodec record)
 *   RUN   the topology (TopologyCodec) whose operation's copy the receiver should make
 *   STATUS u8 state (0 running, 1 done, 2 failed), str detail
 * </pre>
 * Decoding is exact: a short or over-long body is {@link MalformedMessageException}.
 */
final class StreamCodec {
    static final int RANGES_MAX = 1 << 14;

    private StreamCodec() {
    }

    record Pull(long epoch, HostId source, List<TokenRange> ranges, String after, int rowsMax, int bytesMax) {
        boolean covers(long token) {
            for (TokenRange r : ranges) {
                if (r.contains(token)) {
                    return true;
                }
            }
            return false;
        }
    }

    enum State { RUNNING, DONE, FAILED }

    record Status(State state, String detail) {
    }

    static byte[] encode(Pull p) {
        return write(out -> {
            out.writeLong(p.epoch());
            out.writeLong(p.source().uuid().getMostSignificantBits());
            out.writeLong(p.source().uuid().getLeastSignificantBits());
            out.writeShort(p.ranges().size());
            for (TokenRange r : p.ranges()) {
                out.writeLong(r.start());
                out.writeLong(r.end());
            }
            out.writeBoolean(p.after() != null);
            if (p.after() != null) {
                WireStrings.write(out, p.after());
            }
            out.writeShort(p.rowsMax());
            out.writeInt(p.bytesMax());
        });
    }

    static Pull decodePull(byte[] body) {
        ByteBuffer in = ByteBuffer.wrap(body);
        try {
            long epoch = in.getLong();
            HostId source = new HostId(new UUID(in.getLong(), in.getLong()));
            int n = Short.toUnsignedInt(in.getShort());
            if (n == 0 || n > RANGES_MAX) {
                throw new MalformedMessageException("a stream pull names " + n + " ranges");
            }
            List<TokenRange> ranges = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                ranges.add(new TokenRange(in.getLong(), in.getLong()));
            }
            String after = flag(in) ? WireStrings.read(in) : null;
            int rowsMax = Short.toUnsignedInt(in.getShort());
            int bytesMax = in.getInt();
            if (rowsMax < 1 || bytesMax < 1) {
                throw new MalformedMessageException("a stream pull asks for " + rowsMax + " rows / " + bytesMax + " bytes");
            }
            end(in);
            return new Pull(epoch, source, ranges, after, rowsMax, bytesMax);
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("a stream pull is cut short");
        }
    }

    static byte[] encode(MapDbStore.Page page) {
        return write(out -> {
            out.writeBoolean(page.more());
            out.writeInt(page.rows().size());
            for (MapDbStore.Row r : page.rows()) {
                WireStrings.write(out, r.key());
                out.writeInt(r.record().length);
                out.write(r.record());
            }
        });
    }

    static MapDbStore.Page decodeChunk(byte[] body) {
        ByteBuffer in = ByteBuffer.wrap(body);
        try {
            boolean more = flag(in);
            int n = in.getInt();
            if (n < 0 || n > in.remaining()) {
                throw new MalformedMessageException("a stream chunk claims " + n + " rows");
            }
            List<MapDbStore.Row> rows = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String key = WireStrings.read(in);
                int length = in.getInt();
                if (length < 0 || length > in.remaining()) {
                    throw new MalformedMessageException("a streamed row of " + length + " bytes exceeds the chunk");
                }
                byte[] record = new byte[length];
                in.get(record);
                rows.add(new MapDbStore.Row(key, record));
            }
            end(in);
            return new MapDbStore.Page(rows, more);
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("a stream chunk is cut short");
        }
    }

    static byte[] encodeRun(Topology t) {
        return TopologyCodec.encode(t);
    }

    static Topology decodeRun(byte[] body) {
        try {
            return TopologyCodec.decode(body);
        } catch (KeyStateCodec.CorruptRecordException e) {
            throw new MalformedMessageException("a stream run's topology does not decode: " + e.getMessage());
        }
    }

    static byte[] encode(Status s) {
        return write(out -> {
            out.writeByte(s.state().ordinal());
            WireStrings.write(out, s.detail().length() > 2000 ? s.detail().substring(0, 2000) : s.detail());
        });
    }

    static Status decodeStatus(byte[] body) {
        ByteBuffer in = ByteBuffer.wrap(body);
        try {
            int state = Byte.toUnsignedInt(in.get());
            if (state >= State.values().length) {
                throw new MalformedMessageException("unknown stream state " + state);
            }
            String detail = WireStrings.read(in);
            end(in);
            return new Status(State.values()[state], detail);
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("a stream status is cut short");
        }
    }

    private static boolean flag(ByteBuffer in) {
        byte b = in.get();
        if (b != 0 && b != 1) {
            throw new MalformedMessageException("bad flag " + b);
        }
        return b == 1;
    }

    private static void end(ByteBuffer in) {
        if (in.hasRemaining()) {
            throw new MalformedMessageException(in.remaining() + " trailing bytes");
        }
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] write(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: writing to memory", e);
        }
        return bytes.toByteArray();
    }
}
