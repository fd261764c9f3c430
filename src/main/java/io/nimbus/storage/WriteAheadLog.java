package io.nimbus.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Nimbus's own write-ahead log: the point at which a write becomes durable. A batch of records is
 * appended with one {@code write} and made durable with one {@code fdatasync}; the records are then
 * applied to MapDB, which is committed (checkpointed) only now and then, after which the log
 * segments it covers are deleted.
 *
 * <p>Why not commit MapDB per batch: MapDB 3.1's transactional commit creates, writes, fsyncs,
 * replays and deletes a log file each time (two fsyncs and ~300 small reads here, ~2.4 ms), which
 * caps a node at a few hundred commits per second.
 *
 * <p>Record: {@code u32 length, u32 crc32c(payload), payload}; payload: {@code u64 seq, u16 key
 * length, key UTF-8, state bytes}. Segments are named by their first sequence number.
 * On replay, an incomplete last record of the last segment (a crash mid-append, never acknowledged)
 * is cut off; a bad record anywhere else is corruption and fails the open.
 */
final class WriteAheadLog implements AutoCloseable {
    static final String DIR = "wal";
    private static final String PREFIX = "wal-";
    private static final String SUFFIX = ".log";
    private static final int HEADER = 8;
    static final int RECORD_BYTES_MAX = 64 * 1024 * 1024;

    record Entry(long seq, String key, byte[] state) {
    }

    private final Path dir;
    private FileChannel current;
    private Path currentPath;
    private long currentBytes;
    private long syncs;

    private WriteAheadLog(Path dir) {
        this.dir = dir;
    }

    /** Opens the log directory, replaying every record with {@code seq > afterSeq} into {@code sink}. */
    static WriteAheadLog openAndReplay(Path dataDir, long afterSeq, Consumer<Entry> sink) throws IOException {
        Path dir = dataDir.resolve(DIR);
        Files.createDirectories(dir);
        WriteAheadLog log = new WriteAheadLog(dir);
        List<Path> segments = log.segments();
        for (int i = 0; i < segments.size(); i++) {
            replaySegment(segments.get(i), i == segments.size() - 1, afterSeq, sink);
        }
        return log;
    }

    private static void replaySegment(Path segment, boolean last, long afterSeq, Consumer<Entry> sink) throws IOException {
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            long pos = 0;
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            CRC32C crc = new CRC32C();
            while (pos < size) {
                header.clear();
                int n = readFully(ch, header, pos);
                int length = n == HEADER ? header.getInt(0) : -1;
                boolean tornHeader = n < HEADER || (length == 0 && allZero(ch, pos, size));
                if (tornHeader || length < 0 || length > RECORD_BYTES_MAX || pos + HEADER + length > size) {
                    boolean overruns = tornHeader || pos + HEADER + Math.max(length, 0) > size;
                    if (last && overruns) {
                        // A crash mid-append leaves a record that runs past the end. A damaged length field
                        // can look the same, so make sure no intact record follows before cutting.
                        long next = findIntactRecord(ch, pos + 1, size);
                        if (next >= 0) {
                            throw new StoreOpenException("write-ahead log " + segment.toAbsolutePath() + " is corrupt "
                                    + "at byte " + pos + " and valid records follow at byte " + next + ". Acknowledged "
                                    + "writes are in it: restore the data directory from a backup rather than delete the log.");
                        }
                        ch.truncate(pos);
                        ch.force(true);
                        return;
                    }
                    throw new StoreOpenException("write-ahead log " + segment.toAbsolutePath() + " is corrupt at byte "
                            + pos + " (bad record length " + length + "). Acknowledged writes may be in it: restore the "
                            + "data directory from a backup rather than delete the log.");
                }
                ByteBuffer payload = ByteBuffer.allocate(length);
                readFully(ch, payload, pos + HEADER);
                crc.reset();
                crc.update(payload.array(), 0, length);
                if ((int) crc.getValue() != header.getInt(4)) {
                    if (last && pos + HEADER + length == size) {
                        ch.truncate(pos);
                        ch.force(true);
                        return;
                    }
                    throw new StoreOpenException("write-ahead log " + segment.toAbsolutePath() + " has a checksum "
                            + "mismatch at byte " + pos + ". Acknowledged writes may be in it: restore the data "
                            + "directory from a backup rather than delete the log.");
                }
                payload.flip();
                long seq = payload.getLong();
                int keyLen = Short.toUnsignedInt(payload.getShort());
                byte[] key = new byte[keyLen];
                payload.get(key);
                byte[] state = new byte[payload.remaining()];
                payload.get(state);
                if (seq > afterSeq) {
                    sink.accept(new Entry(seq, new String(key, StandardCharsets.UTF_8), state));
                }
                pos += HEADER + length;
            }
        }
    }

    /** The first offset in [from, size) where a whole record with a matching checksum starts, or -1. */
    private static long findIntactRecord(FileChannel ch, long from, long size) throws IOException {
        if (size - from < HEADER) {
            return -1;
        }
        ByteBuffer all = ByteBuffer.allocate((int) Math.min(size - from, Integer.MAX_VALUE - 8));
        readFully(ch, all, from);
        byte[] b = all.array();
        int n = all.position();
        CRC32C crc = new CRC32C();
        for (int i = 0; i + HEADER <= n; i++) {
            int length = ByteBuffer.wrap(b, i, 4).getInt();
            if (length < 10 || length > n - i - HEADER) {
                continue;
            }
            crc.reset();
            crc.update(b, i + HEADER, length);
            if ((int) crc.getValue() == ByteBuffer.wrap(b, i + 4, 4).getInt()) {
                return from + i;
            }
        }
        return -1;
    }

    private static boolean allZero(FileChannel ch, long from, long size) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        for (long p = from; p < size; ) {
            buf.clear();
            int n = ch.read(buf, p);
            if (n <= 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                if (buf.get(i) != 0) {
                    return false;
                }
            }
            p += n;
        }
        return true;
    }

    private static int readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        int total = 0;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    /** Appends the records and makes them durable (one write, one fdatasync). */
    void append(List<Entry> entries) throws IOException {
        if (current == null) {
            throw new IllegalStateException("no open segment: call startSegment first");
        }
        int size = 0;
        for (Entry e : entries) {
            size += HEADER + payloadSize(e);
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        CRC32C crc = new CRC32C();
        for (Entry e : entries) {
            byte[] key = e.key().getBytes(StandardCharsets.UTF_8);
            int length = 8 + 2 + key.length + e.state().length;
            if (length > RECORD_BYTES_MAX) {
                throw new IllegalArgumentException("record of " + length + " bytes is over " + RECORD_BYTES_MAX);
            }
            int start = buf.position();
            buf.putInt(length).putInt(0).putLong(e.seq()).putShort((short) key.length).put(key).put(e.state());
            crc.reset();
            crc.update(buf.array(), start + HEADER, length);
            buf.putInt(start + 4, (int) crc.getValue());
        }
        buf.flip();
        long before = currentBytes;
        try {
            while (buf.hasRemaining()) {
                current.write(buf);
            }
        } catch (IOException e) {
            // Nothing of this append was synced or acknowledged: cut it off so the segment ends where it did,
            // and the caller may refuse the batch as not applied. If even that fails, the segment's end is
            // unknown and the caller must stop.
            try {
                current.truncate(before);
                current.force(false);
            } catch (IOException truncateError) {
                e.addSuppressed(truncateError);
                throw new AppendUnknownException(e);
            }
            throw new AppendRefusedException(e);
        }
        current.force(false);
        currentBytes += size;
        syncs++;
    }

    /** An append that failed and was cut off again: none of its records is in the log. */
    static final class AppendRefusedException extends IOException {
        AppendRefusedException(IOException cause) {
            super("write-ahead log append failed and was rolled back: " + cause.getMessage(), cause);
        }

        boolean noSpace() {
            return DiskSpace.isNoSpace(getCause());
        }
    }

    /** An append that failed and could not be cut off: the log's end is unknown until it is replayed. */
    static final class AppendUnknownException extends IOException {
        AppendUnknownException(IOException cause) {
            super("write-ahead log append failed and could not be rolled back: " + cause.getMessage(), cause);
        }
    }

    /** Bytes in all segments (what a start-up replay reads at most). */
    long totalBytes() throws IOException {
        long total = 0;
        for (Path p : segments()) {
            total += Files.size(p);
        }
        return total;
    }

    /** Bytes {@code e} takes in a segment. */
    static long recordBytes(Entry e) {
        return HEADER + payloadSize(e);
    }

    private static int payloadSize(Entry e) {
        return 8 + 2 + utf8Length(e.key()) + e.state().length;
    }

    /** The key's UTF-8 length without encoding it (sizes are asked for on the writer's hot path). */
    private static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n += 1; // a lone surrogate: String.getBytes writes '?' for it
            } else {
                n += 3;
            }
        }
        return n;
    }

    /**
     * Starts a new segment whose first record will be {@code firstSeq}, made durable in the directory,
     * and deletes every older segment: call only once the state up to {@code firstSeq - 1} is durable elsewhere.
     */
    void startSegment(long firstSeq) throws IOException {
        List<Path> old = segments();
        Path nextPath = dir.resolve(String.format("%s%020d%s", PREFIX, firstSeq, SUFFIX));
        // Open the new segment before closing the old one: if it cannot be created (no space for the
        // directory entry) the log goes on in the old segment, which replay reads from the checkpoint on.
        FileChannel next = FileChannel.open(nextPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        if (current != null) {
            current.close();
        }
        current = next;
        currentPath = nextPath;
        currentBytes = current.size();
        syncDirectory();
        for (Path p : old) {
            if (!p.equals(currentPath)) {
                Files.delete(p);
            }
        }
        syncDirectory();
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    long currentBytes() {
        return currentBytes;
    }

    long syncs() {
        return syncs;
    }

    List<Path> segments() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> out = new ArrayList<>(files.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(PREFIX) && n.endsWith(SUFFIX);
            }).sorted().toList());
            return out;
        }
    }

    @Override
    public void close() throws IOException {
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
