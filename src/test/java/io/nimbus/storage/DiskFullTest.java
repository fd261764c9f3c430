package io.nimbus.storage;

import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.kv.SingleReplica;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.testing.Tmpfs;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The store on a real, small file system (a tmpfs this test mounts) that runs out of space: under its
 * own writes, then with another process's file taking every last byte at a random moment, then across
 * a restart on the full disk, and after the space is freed. Over many sizes and seeds (so the disk fills
 * at a different step each time: the log append, MapDB taking records in, a checkpoint, a topology-free
 * start-up replay), no acknowledged write may be lost, no store may be damaged, and writes must resume
 * by themselves once space is back. Needs root (CI runs as root); skipped otherwise.
 */
class DiskFullTest {
    private static final int RUNS = Integer.getInteger("diskfull.runs", 12);
    private static final long RESERVE = 4L << 20;
    private static final long FREE_MIN = 512L << 10;
    private static final int KEYS = 1500;

    /** What a key may hold: its last acknowledged value, or one whose write had an unknown outcome. */
    private static final class Model {
        final Map<String, String> acked = new HashMap<>();
        final Map<String, Set<String>> unknown = new HashMap<>();

        void ack(String key, String value) {
            acked.put(key, value);
            unknown.remove(key);
        }

        void maybe(String key, String value) {
            unknown.computeIfAbsent(key, k -> new HashSet<>()).add(value);
        }

        /** Violations of the model in {@code store}; afterwards what it holds is the known state. */
        List<String> check(MapDbStore store) {
            List<String> bad = new ArrayList<>();
            Set<String> keys = new HashSet<>(acked.keySet());
            keys.addAll(unknown.keySet());
            for (String k : keys) {
                String found = value(store.read(k));
                String want = acked.get(k);
                boolean ok = found == null ? want == null : found.equals(want) || unknown.getOrDefault(k, Set.of()).contains(found);
                if (!ok) {
                    bad.add(k + ": found " + abbreviate(found) + ", acknowledged " + abbreviate(want));
                }
                if (found != null) {
                    acked.put(k, found);
                } else {
                    acked.remove(k);
                }
                unknown.remove(k);
            }
            return bad;
        }
    }

    private record RunReport(int run, long fsBytes, int acked, int refusedDiskFull, int unknown, boolean failStopped,
                             String reopenOnFullDisk, long resumeMillis, long records) {
    }

    @Test
    void noAcknowledgedWriteIsLostAndNoStoreIsDamagedWhenTheDiskFills() throws Exception {
        assumeTrue(Tmpfs.canMount(), "mounting a tmpfs needs root (CI runs as root)");
        Path base = Path.of("target", "diskfull").toAbsolutePath();
        Files.createDirectories(base);
        List<RunReport> reports = new ArrayList<>();
        for (int run = 0; run < RUNS; run++) {
            long fsBytes = (20L << 20) + run * (384L << 10); // 20 MiB .. 25.6 MiB: the disk fills at a different point
            Path mnt = base.resolve("run-" + run);
            Files.createDirectories(mnt);
            Tmpfs.mount(mnt, fsBytes);
            try {
                reports.add(oneRun(run, fsBytes, mnt, new SplittableRandom(run * 7919L + 1)));
            } catch (Throwable t) {
                try {
                    Tmpfs.unmount(mnt);
                } catch (IOException e) {
                    t.addSuppressed(e);
                }
                throw t;
            }
            Tmpfs.unmount(mnt);
        }
        StringBuilder sb = new StringBuilder("[disk-full] runs:\n");
        int acked = 0, refused = 0, unknown = 0, failStops = 0;
        for (RunReport r : reports) {
            sb.append("  ").append(r).append('\n');
            acked += r.acked();
            refused += r.refusedDiskFull();
            unknown += r.unknown();
            failStops += r.failStopped() ? 1 : 0;
        }
        sb.append(String.format("  total: %d runs, %d acknowledged writes (0 lost), %d refused disk-full, %d unknown "
                + "outcome, %d fail-stops, 0 damaged stores%n", reports.size(), acked, refused, unknown, failStops));
        System.out.print(sb);
        assertTrue(refused > 0, "no write was ever refused for a full disk: the test never filled the disk");
    }

    private RunReport oneRun(int run, long fsBytes, Path mnt, SplittableRandom random) throws Exception {
        Path data = mnt.resolve("data");
        Model model = new Model();
        int[] counts = new int[3]; // acked, refused disk-full, unknown
        MapDbStore store = open(data);
        boolean failStopped;
        Path filler = mnt.resolve("other-process.fill");
        Path other = mnt.resolve("other-process.data");
        // Another process holds 7-9 MiB from the start: freeing it later gives the store room to resume.
        Tmpfs.fill(other, (7L << 20) + random.nextLong(2L << 20));
        try {
            // Phase 1: our own writes until the store refuses them for want of space.
            writeUntil(store, model, random, counts, 50, 40_000);
            if (Boolean.getBoolean("diskfull.debug")) {
                try (var files = Files.walk(mnt)) {
                    files.filter(Files::isRegularFile).forEach(f -> {
                        try {
                            System.out.println("[disk-full] " + f + " " + Files.size(f));
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
                }
                System.out.println("[disk-full] free " + DiskSpace.of(mnt).usableBytes() + " full: " + store.diskFull());
            }
            // Phase 2: another process takes every byte at a random moment while writes go on.
            int before = random.nextInt(1, 200);
            for (int i = 0; i < before && store.isHealthy(); i++) {
                writeOne(store, model, random, counts);
            }
            Tmpfs.fill(filler, Long.MAX_VALUE);
            writeUntil(store, model, random, counts, 30, 4_000);
            failStopped = !store.isHealthy();
        } finally {
            store.close();
        }
        // Phase 3: start again on the full disk: it opens and has every acknowledged write, or refuses and changes
        // nothing. Then the space comes back: an open store takes writes again by itself.
        String reopen;
        long resumeMillis = -1;
        try {
            MapDbStore again = open(data);
            try {
                assertNoLoss(run, "reopened on the full disk", model, again);
                reopen = "opened";
                long freedAt = System.nanoTime();
                Files.delete(filler);
                Files.delete(other);
                resumeMillis = awaitWritable(run, again, model, counts, random, freedAt);
            } finally {
                again.close();
            }
        } catch (StoreOpenException e) {
            assertTrue(e.getMessage().contains("full"), "run " + run + ": refused to open for another reason: " + e);
            reopen = "refused (disk full)";
            Files.delete(filler);
            Files.delete(other);
        }
        // Phase 4: with space back, every acknowledged write is there, the store takes writes, nothing is damaged.
        MapDbStore back = open(data);
        long records;
        try {
            assertNoLoss(run, "after the disk filled and space came back", model, back);
            writeUntil(back, model, random, counts, 0, 200);
            records = back.verify();
        } finally {
            back.close();
        }
        MapDbStore last = open(data);
        try {
            assertNoLoss(run, "after space came back and a clean restart", model, last);
            last.verify();
        } finally {
            last.close();
        }
        return new RunReport(run, fsBytes, counts[0], counts[1], counts[2], failStopped, reopen, resumeMillis, records);
    }

    private static void assertNoLoss(int run, String when, Model model, MapDbStore store) {
        store.verify(); // throws if any record is damaged
        List<String> bad = model.check(store);
        if (!bad.isEmpty()) {
            fail("run " + run + ", " + when + ": " + bad.size() + " keys lost an acknowledged write: "
                    + bad.subList(0, Math.min(10, bad.size())));
        }
    }

    /**
     * Writes until {@code refusals} of them were refused for a full disk (0: no such stop), at most {@code max}.
     * (Refusals come and go: checkpoints free log space, and overwrites reuse MapDB's space.)
     */
    private static void writeUntil(MapDbStore store, Model model, SplittableRandom random, int[] counts,
                                   int refusals, int max) throws Exception {
        int refused = 0;
        for (int i = 0; i < max && store.isHealthy() && (refusals == 0 || refused < refusals); i++) {
            if (!writeOne(store, model, random, counts)) {
                refused++;
            }
        }
        if (refusals > 0 && refused < refusals && store.isHealthy()) {
            fail("the disk never filled in " + max + " writes");
        }
    }

    /** One write of a random size to a random key; true if acknowledged. */
    private static boolean writeOne(MapDbStore store, Model model, SplittableRandom random, int[] counts) throws Exception {
        String key = "k" + random.nextInt(KEYS);
        int size = random.nextInt(8) == 0 ? random.nextInt(8_000, 120_000) : random.nextInt(8, 2_000);
        String value = key + "-" + UUID.randomUUID() + "-" + "x".repeat(size);
        try {
            WriteOutcome o = store.submit(new Mutation(key, value.getBytes(StandardCharsets.UTF_8), Precondition.NONE))
                    .get(30, TimeUnit.SECONDS);
            assertTrue(o instanceof WriteOutcome.Applied, "unconditional write not applied: " + o);
            model.ack(key, value);
            counts[0]++;
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StoreDiskFullException) {
                counts[1]++; // not applied: the key keeps its state
                Thread.sleep(1); // a client backing off
                return false;
            }
            if (e.getCause() instanceof StoreFailedException) {
                model.maybe(key, value);
                counts[2]++;
                return false;
            }
            throw e;
        } catch (TimeoutException e) {
            throw new AssertionError("a write took over 30 s", e);
        }
    }

    private static long awaitWritable(int run, MapDbStore store, Model model, int[] counts, SplittableRandom random,
                                      long freedAt) throws Exception {
        long deadline = freedAt + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (writeOne(store, model, random, counts)) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - freedAt);
            }
            Thread.sleep(10);
        }
        throw new AssertionError("run " + run + ": writes did not resume within 10 s of freeing space: " + store.diskFull());
    }

    private static MapDbStore open(Path data) {
        return MapDbStore.open(new StoreSettings(data, "n1", 1000, 64, 1000, 64 << 20,
                () -> TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()), CommitGate.NONE, UUID::randomUUID,
                new StoreSettings.DiskLimits(FREE_MIN, RESERVE, DiskSpace.of(data))));
    }

    private static String value(KeyState s) {
        Proposal p = SingleReplica.settled(s).committed();
        return p == null || p.isTombstone() ? null : new String(p.value(), StandardCharsets.UTF_8);
    }

    private static String abbreviate(String v) {
        return v == null ? "nothing" : v.substring(0, Math.min(48, v.length())) + (v.length() > 48 ? "…" : "");
    }
}
