package io.nimbus.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WriteAheadLogTest {
    @TempDir
    Path dir;

    private static WriteAheadLog.Entry entry(long seq) {
        return new WriteAheadLog.Entry(seq, "key-" + seq + "-é", ("state-" + seq).getBytes());
    }

    private List<WriteAheadLog.Entry> replay(long after) throws IOException {
        List<WriteAheadLog.Entry> out = new ArrayList<>();
        WriteAheadLog.openAndReplay(dir, after, out::add).close();
        return out;
    }

    private Path writeSegment(long first, int count) throws IOException {
        try (WriteAheadLog wal = WriteAheadLog.openAndReplay(dir, Long.MAX_VALUE, e -> { })) {
            wal.startSegment(first);
            List<WriteAheadLog.Entry> batch = new ArrayList<>();
            for (long s = first; s < first + count; s++) {
                batch.add(entry(s));
            }
            wal.append(batch);
            assertEquals(1, wal.syncs(), "one fdatasync per appended batch");
            return wal.segments().get(wal.segments().size() - 1);
        }
    }

    @Test
    void aRecordsSizeIsWhatItTakesInTheSegmentForAnyKey() throws IOException {
        // the store budgets disk space with recordBytes; it must match the bytes really appended
        try (WriteAheadLog wal = WriteAheadLog.openAndReplay(dir, Long.MAX_VALUE, e -> { })) {
            wal.startSegment(1);
            long seq = 1;
            for (String key : List.of("plain", "é-two", "€-three", "\uD83D\uDE00-four", "lone-\uD800-surrogate", "\u0000topology")) {
                WriteAheadLog.Entry e = new WriteAheadLog.Entry(seq++, key, new byte[] {1, 2, 3});
                Path segment = wal.segments().get(0);
                long before = java.nio.file.Files.size(segment);
                wal.append(List.of(e));
                assertEquals(WriteAheadLog.recordBytes(e), java.nio.file.Files.size(segment) - before, key);
            }
        }
    }

    @Test
    void replaysEveryRecordAfterTheCheckpointInOrder() throws IOException {
        writeSegment(1, 5);
        List<WriteAheadLog.Entry> all = replay(0);
        assertEquals(5, all.size());
        for (int i = 0; i < 5; i++) {
            assertEquals(i + 1, all.get(i).seq());
            assertEquals("key-" + (i + 1) + "-é", all.get(i).key());
            assertArrayEquals(("state-" + (i + 1)).getBytes(), all.get(i).state());
        }
        assertEquals(List.of(4L, 5L), replay(3).stream().map(WriteAheadLog.Entry::seq).toList());
    }

    @Test
    void startingASegmentDeletesTheOldOnes() throws IOException {
        writeSegment(1, 3);
        try (WriteAheadLog wal = WriteAheadLog.openAndReplay(dir, 0, e -> { })) {
            wal.startSegment(4);
            assertEquals(1, wal.segments().size());
            assertTrue(wal.segments().get(0).getFileName().toString().contains("00000000000000000004"));
        }
        assertEquals(0, replay(0).size());
    }

    @Test
    void aTornLastRecordIsCutOffAndTheLogStaysUsable() throws IOException {
        Path seg = writeSegment(1, 3);
        long full = Files.size(seg);
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
            ch.truncate(full - 3);
        }
        assertEquals(List.of(1L, 2L), replay(0).stream().map(WriteAheadLog.Entry::seq).toList());
        assertTrue(Files.size(seg) < full - 3, "the partial record was removed from the file");
        // the cut is idempotent: a second recovery sees the same records
        assertEquals(List.of(1L, 2L), replay(0).stream().map(WriteAheadLog.Entry::seq).toList());
    }

    @Test
    void aZeroFilledTailIsTreatedAsTorn() throws IOException {
        Path seg = writeSegment(1, 2);
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.allocate(4096));
        }
        assertEquals(2, replay(0).size());
    }

    @Test
    void aBadChecksumInTheMiddleFailsLoudly() throws IOException {
        Path seg = writeSegment(1, 3);
        flipByte(seg, 20); // inside the first record's payload
        StoreOpenException e = assertThrows(StoreOpenException.class, () -> replay(0));
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void aBadLengthInTheMiddleFailsLoudlyEvenWhenItPointsPastTheEnd() throws IOException {
        Path seg = writeSegment(1, 3);
        flipByte(seg, 1); // the first record's length now points past the file, like a torn write would
        StoreOpenException e = assertThrows(StoreOpenException.class, () -> replay(0));
        assertTrue(e.getMessage().contains("valid records follow"), e.getMessage());
    }

    @Test
    void aBadRecordInAnEarlierSegmentIsNeverTreatedAsATornTail() throws IOException {
        Path first = writeSegment(1, 2);
        Path second = dir.resolve(WriteAheadLog.DIR).resolve("wal-00000000000000000003.log");
        Files.copy(first, second);
        try (FileChannel ch = FileChannel.open(first, StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(first) - 2);
        }
        assertThrows(StoreOpenException.class, () -> replay(0));
    }

    private static void flipByte(Path file, long pos) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, pos);
            b.put(0, (byte) (b.get(0) ^ 0x5a));
            b.rewind();
            ch.write(b, pos);
        }
    }
}
