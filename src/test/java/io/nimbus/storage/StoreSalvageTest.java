package io.nimbus.storage;

import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.kv.SingleReplica;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.tools.StoreToolAccess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code store salvage}: a store rebuilt from what is intact, with the old directory left untouched. */
class StoreSalvageTest {
    @TempDir
    Path tmp;

    private static StoreSettings settings(Path dir, long checkpointMs) {
        return new StoreSettings(dir, "n1", 1000, 512, checkpointMs, 64 << 20,
                () -> TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()), CommitGate.NONE, UUID::randomUUID,
                new StoreSettings.DiskLimits(0, 4 << 20, DiskSpace.of(dir)));
    }

    private static Map<String, String> write(MapDbStore s, int n, String tag) throws Exception {
        Map<String, String> written = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String v = tag + "-" + i + "-" + "x".repeat(i % 300);
            WriteOutcome o = s.submit(new Mutation("key-" + i, v.getBytes(StandardCharsets.UTF_8), Precondition.NONE))
                    .get(10, TimeUnit.SECONDS);
            assertTrue(o instanceof WriteOutcome.Applied, o.toString());
            written.put("key-" + i, v);
        }
        return written;
    }

    private static String value(MapDbStore s, String key) {
        Proposal p = SingleReplica.settled(s.read(key)).committed();
        return p == null ? null : new String(p.value(), StandardCharsets.UTF_8);
    }

    @Test
    void anIntactStoreIsCopiedWholeUnderANewHostIdAndTheOldDirectoryIsNotWritten() throws Exception {
        Path old = tmp.resolve("old");
        Map<String, String> written;
        String oldHost;
        try (MapDbStore s = MapDbStore.open(settings(old, 1000))) {
            written = write(s, 500, "a");
            oldHost = s.hostId().toString();
        }
        String before = digest(old);
        Path fresh = tmp.resolve("new");
        StoreSalvage.Report r = StoreSalvage.salvage(old, fresh, false, settings(fresh, 1000));
        assertEquals(before, digest(old), "salvage wrote into the directory it salvages");
        assertEquals(500, r.keysCopied());
        assertEquals(0, r.keysUnreadable());
        assertTrue(!r.listingCut() && r.problems().isEmpty(), r.toString());
        try (MapDbStore s = MapDbStore.open(settings(fresh, 1000))) {
            assertNotEquals(oldHost, s.hostId().toString(), "a salvaged replica must not vote under its old identity");
            assertEquals(null, s.topology());
            written.forEach((k, v) -> assertEquals(v, value(s, k), k));
            assertEquals(500, s.verify());
        }
    }

    @Test
    void theLogAfterTheLastCheckpointIsReplayedOnTopAndTheIdentityKeptOnlyWhereAllowed() throws Exception {
        Path old = tmp.resolve("old");
        Path crashed = tmp.resolve("crashed");
        Map<String, String> written;
        String oldHost;
        MapDbStore s = MapDbStore.open(settings(old, 3_600_000)); // no checkpoint: the writes live in the log
        try {
            written = write(s, 300, "b");
            oldHost = s.hostId().toString();
            MapDbStoreTest.copyTree(old, crashed); // as a kill -9 leaves it
        } finally {
            s.close();
        }
        Path fresh = tmp.resolve("new");
        StoreSalvage.Report r = StoreSalvage.salvage(crashed, fresh, true, settings(fresh, 1000));
        assertTrue(r.logRecordsReplayed() >= 300, r.toString());
        try (MapDbStore n = MapDbStore.open(settings(fresh, 1000))) {
            assertEquals(oldHost, n.hostId().toString(), "a store with no topology may keep its identity");
            written.forEach((k, v) -> assertEquals(v, value(n, k), k));
        }
        assertThrows(IllegalArgumentException.class, () -> StoreSalvage.salvage(crashed, fresh, false, settings(fresh, 1000)),
                "salvage must refuse a target that is not empty");
    }

    @Test
    void aStoreFileDamagedBeyondOpeningIsRebuiltFromItsLogAndTheDamageIsReported() throws Exception {
        Path old = tmp.resolve("old");
        try (MapDbStore s = MapDbStore.open(settings(old, 1000))) {
            write(s, 2000, "c"); // checkpointed into MapDB on close
        }
        Path crashed = tmp.resolve("crashed");
        Map<String, String> logged;
        MapDbStore s = MapDbStore.open(settings(old, 3_600_000));
        try {
            logged = write(s, 100, "d"); // newer values of key-0..99, only in the log
            MapDbStoreTest.copyTree(old, crashed);
        } finally {
            s.close();
        }
        try (RandomAccessFile f = new RandomAccessFile(crashed.resolve(MapDbStore.DB_FILE).toFile(), "rw")) {
            f.setLength(f.length() / 2); // half the store file gone
        }
        String verify = StoreToolAccess.verify(crashed.resolveSibling("crashed-copy-for-verify"));
        assertTrue(verify.startsWith("2"), "verify of a directory without a store must fail: " + verify);
        MapDbStoreTest.copyTree(crashed, crashed.resolveSibling("crashed-2"));
        verify = StoreToolAccess.verify(crashed.resolveSibling("crashed-2"));
        assertTrue(verify.startsWith("2"), "store verify must report the damage: " + verify);

        Path fresh = tmp.resolve("new");
        StoreSalvage.Report r = StoreSalvage.salvage(crashed, fresh, false, settings(fresh, 1000));
        System.out.println("[salvage] half the store file cut off: " + r);
        assertTrue(r.listingCut() && !r.problems().isEmpty(), "the damage must show in the report: " + r);
        assertTrue(r.logRecordsReplayed() >= 100, r.toString());
        try (MapDbStore n = MapDbStore.open(settings(fresh, 1000))) {
            assertEquals(r.keysCopied(), n.verify());
            logged.forEach((k, v) -> assertEquals(v, value(n, k), "the log's write of " + k + " was not salvaged"));
        }
    }

    @Test
    void aValueWhoseBytesChangedOnDiskIsReportedAndLeftOutNotCopiedWrong() throws Exception {
        Path old = tmp.resolve("old");
        Map<String, String> written;
        try (MapDbStore s = MapDbStore.open(settings(old, 1000))) {
            written = write(s, 200, "e");
            s.submit(new Mutation("marked", "MARKER-0123456789-MARKER".getBytes(StandardCharsets.UTF_8), Precondition.NONE))
                    .get(10, TimeUnit.SECONDS);
        }
        Path db = old.resolve(MapDbStore.DB_FILE);
        byte[] file = Files.readAllBytes(db);
        byte[] marker = "MARKER-0123456789-MARKER".getBytes(StandardCharsets.UTF_8);
        int at = indexOf(file, marker);
        assertTrue(at >= 0, "the value is stored as it is in the file");
        assertEquals(-1, indexOf(Arrays.copyOfRange(file, at + 1, file.length), marker), "the value is stored once");
        try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
            f.seek(at + 7);
            f.write('9' ^ 1); // one flipped bit inside the value: it would still decode without a checksum
        }
        String verify = StoreToolAccess.verify(old);
        assertTrue(verify.startsWith("2") && verify.contains("checksum"), "store verify must find it: " + verify);
        Path fresh = tmp.resolve("new");
        StoreSalvage.Report r = StoreSalvage.salvage(old, fresh, false, settings(fresh, 1000));
        assertEquals(1, r.keysUnreadable(), r.toString());
        assertEquals(200, r.keysCopied(), r.toString());
        try (MapDbStore n = MapDbStore.open(settings(fresh, 1000))) {
            assertEquals(null, value(n, "marked"), "a changed value must not be salvaged as if it were intact");
            written.forEach((k, v) -> assertEquals(v, value(n, k), k));
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static String digest(Path dir) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.filter(Files::isRegularFile).sorted().toList()) {
                md.update(dir.relativize(p).toString().getBytes(StandardCharsets.UTF_8));
                md.update(Files.readAllBytes(p));
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
