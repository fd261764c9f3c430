package io.nimbus.storage;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The on-disk (and on-the-wire) form of a {@link KeyState}. Format 2 is format 1 followed by a checksum:
 * <pre>
 *   u8  format (=2; 1 = the same without the checksum, still read)
 *   u8  flags: 1 promised, 2 accepted, 4 committed, 8 accepted==committed (value stored once),
 *              16 accepted is a tombstone, 32 committed is a tombstone,
 *              64 accepted's version differs from its ballot, 128 committed's version differs
 *   [ballot promised] [proposal accepted, unless flag 8] [proposal committed]
 *   ballot   = i64 counter, u8 node-id length, node-id ASCII
 *   proposal = ballot, [version ballot, if its flag], then (unless tombstone) i32 length, bytes
 *   u32 CRC-32C of every byte before it (format 2)
 * </pre>
 * A record that does not parse exactly, or whose checksum does not match, is corruption and is reported
 * as such, never guessed at: a flipped bit inside a value is caught too (format 1 could not see it).
 */
public final class KeyStateCodec {
    static final byte FORMAT = 2;
    /** Records written before the checksum (read, never written). */
    static final byte FORMAT_UNCHECKED = 1;
    private static final int CHECKSUM_BYTES = 4;
    private static final int PROMISED = 1, ACCEPTED = 2, COMMITTED = 4, SAME = 8, ACC_TOMB = 16, COM_TOMB = 32,
            ACC_VERSION = 64, COM_VERSION = 128;

    private KeyStateCodec() {
    }

    public static byte[] encode(KeyState state) {
        Proposal acc = state.accepted();
        Proposal com = state.committed();
        boolean same = acc != null && acc.equals(com);
        int flags = (state.promised() != null ? PROMISED : 0)
                | (acc != null ? ACCEPTED : 0)
                | (com != null ? COMMITTED : 0)
                | (same ? SAME : 0)
                | (acc != null && acc.isTombstone() ? ACC_TOMB : 0)
                | (com != null && com.isTombstone() ? COM_TOMB : 0)
                | (!same && acc != null && !acc.version().equals(acc.ballot()) ? ACC_VERSION : 0)
                | (com != null && !com.version().equals(com.ballot()) ? COM_VERSION : 0);
        int size = 2 + 64 * 5 + (com != null && com.value() != null ? com.value().length : 0)
                + (!same && acc != null && acc.value() != null ? acc.value().length : 0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(size + CHECKSUM_BYTES);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FORMAT);
            out.writeByte(flags);
            if (state.promised() != null) {
                writeBallot(out, state.promised());
            }
            if (acc != null && !same) {
                writeProposal(out, acc);
            }
            if (com != null) {
                writeProposal(out, com);
            }
            out.flush();
            out.writeInt(checksum(bytes.toByteArray(), bytes.size()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen: writing to memory", e);
        }
        return bytes.toByteArray();
    }

    private static int checksum(byte[] record, int length) {
        CRC32C crc = new CRC32C();
        crc.update(record, 0, length);
        return (int) crc.getValue();
    }

    public static KeyState decode(byte[] record) {
        if (record == null) {
            return KeyState.EMPTY;
        }
        try {
            ByteBuffer in = ByteBuffer.wrap(record);
            byte format = in.get();
            if (format == FORMAT) {
                int body = record.length - CHECKSUM_BYTES;
                if (body < 2) {
                    throw new CorruptRecordException("record of " + record.length + " bytes is too short for format 2");
                }
                if (checksum(record, body) != ByteBuffer.wrap(record, body, CHECKSUM_BYTES).getInt()) {
                    throw new CorruptRecordException("record checksum does not match: its bytes changed after it was written");
                }
                in = ByteBuffer.wrap(record, 0, body);
                in.get();
            } else if (format != FORMAT_UNCHECKED) {
                throw new CorruptRecordException("unknown record format " + format);
            }
            int flags = Byte.toUnsignedInt(in.get());
            if ((flags & ~(PROMISED | ACCEPTED | COMMITTED | SAME | ACC_TOMB | COM_TOMB | ACC_VERSION | COM_VERSION)) != 0
                    || ((flags & ACC_VERSION) != 0 && ((flags & ACCEPTED) == 0 || (flags & SAME) != 0))
                    || ((flags & COM_VERSION) != 0 && (flags & COMMITTED) == 0)
                    || ((flags & SAME) != 0 && (flags & (ACCEPTED | COMMITTED)) != (ACCEPTED | COMMITTED))
                    || ((flags & ACC_TOMB) != 0 && (flags & ACCEPTED) == 0)
                    || ((flags & COM_TOMB) != 0 && (flags & COMMITTED) == 0)
                    || ((flags & SAME) != 0 && ((flags & ACC_TOMB) != 0) != ((flags & COM_TOMB) != 0))) {
                throw new CorruptRecordException("inconsistent record flags " + Integer.toBinaryString(flags));
            }
            Ballot promised = (flags & PROMISED) != 0 ? readBallot(in) : null;
            Proposal accepted = (flags & ACCEPTED) != 0 && (flags & SAME) == 0
                    ? readProposal(in, (flags & ACC_TOMB) != 0, (flags & ACC_VERSION) != 0) : null;
            Proposal committed = (flags & COMMITTED) != 0
                    ? readProposal(in, (flags & COM_TOMB) != 0, (flags & COM_VERSION) != 0) : null;
            if ((flags & SAME) != 0) {
                accepted = committed;
            }
            if (in.hasRemaining()) {
                throw new CorruptRecordException(in.remaining() + " trailing bytes");
            }
            return new KeyState(promised, accepted, committed);
        } catch (BufferUnderflowException | IllegalArgumentException | IllegalStateException e) {
            throw new CorruptRecordException("record does not parse: " + e.getMessage(), e);
        }
    }

    private static void writeBallot(DataOutputStream out, Ballot b) throws IOException {
        byte[] id = b.nodeId().getBytes(StandardCharsets.US_ASCII);
        out.writeLong(b.counter());
        out.writeByte(id.length);
        out.write(id);
    }

    private static void writeProposal(DataOutputStream out, Proposal p) throws IOException {
        writeBallot(out, p.ballot());
        if (!p.version().equals(p.ballot())) {
            writeBallot(out, p.version());
        }
        if (!p.isTombstone()) {
            out.writeInt(p.value().length);
            out.write(p.value());
        }
    }

    private static Ballot readBallot(ByteBuffer in) {
        long counter = in.getLong();
        int len = Byte.toUnsignedInt(in.get());
        byte[] id = new byte[len];
        in.get(id);
        return new Ballot(counter, new String(id, StandardCharsets.US_ASCII));
    }

    private static Proposal readProposal(ByteBuffer in, boolean tombstone, boolean ownVersion) {
        Ballot ballot = readBallot(in);
        Ballot version = ownVersion ? readBallot(in) : ballot;
        if (ownVersion && version.equals(ballot)) {
            throw new CorruptRecordException("a version flagged as distinct equals its ballot");
        }
        if (tombstone) {
            return new Proposal(ballot, version, null);
        }
        int len = in.getInt();
        if (len < 0 || len > in.remaining()) {
            throw new CorruptRecordException("value length " + len + " exceeds the record");
        }
        byte[] value = new byte[len];
        in.get(value);
        return new Proposal(ballot, version, value);
    }

    /** A stored record that cannot be read back: the store is damaged. */
    public static final class CorruptRecordException extends RuntimeException {
        CorruptRecordException(String message) {
            super(message);
        }

        CorruptRecordException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
