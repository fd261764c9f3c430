package io.nimbus.storage;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.WriteOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MapDbStoreTest {
    @TempDir
    Path dir;
    /** Copies of {@link #dir} (crash images); a second temporary directory, so that JUnit deletes them too. */
    @TempDir
    Path images;

    private final List<MapDbStore> open = new ArrayList<>();
    private final AtomicLong micros = new AtomicLong(1_000_000);
    private final Gate gate = new Gate();

    /** Holds the writer before the log append while closed. */
    static final class Gate implements CommitGate {
        volatile CountDownLatch latch = new CountDownLatch(0);
        final Semaphore held = new Semaphore(0);
        volatile RuntimeException fail;

        @Override
        public void beforeCommit(int batchSize) throws InterruptedException {
            if (fail != null) {
                throw fail;
            }
            if (latch.getCount() > 0) {
                held.release();
                assertTrue(latch.await(10, TimeUnit.SECONDS));
            }
        }
    }

    private long rowCacheBytes = StoreSettings.ROW_CACHE_BYTES_DEFAULT;

    private MapDbStore open(Path at) {
        MapDbStore s = MapDbStore.open(new StoreSettings(at, "n1", 1000, 512, 3_600_000, 64 << 20, micros::get, gate, java.util.UUID::randomUUID,
                new StoreSettings.DiskLimits(0, 16 << 20, DiskSpace.of(at)), rowCacheBytes));
        open.add(s);
        return s;
    }

    @AfterEach
    void closeAll() {
        gate.latch.countDown();
        for (MapDbStore s : open) {
            if (s.isHealthy()) {
                s.close();
            }
        }
    }

    private static Mutation put(String k, String v) {
        return new Mutation(k, v.getBytes(), Precondition.NONE);
    }

    private static WriteOutcome await(CompletableFuture<WriteOutcome> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void writesAreReadableAndSurviveACleanRestart() throws Exception {
        MapDbStore s = open(dir);
        Ballot v1 = ((WriteOutcome.Applied) await(s.submit(put("a", "1")))).version();
        assertArrayEquals("1".getBytes(), s.read("a").committed().value());
        s.close();
        open.clear();
        MapDbStore again = open(dir);
        KeyState a = again.read("a");
        assertArrayEquals("1".getBytes(), a.committed().value());
        assertEquals(v1, a.committed().ballot());
        // the clock went backwards across the restart, yet new versions are still above old ones
        micros.set(1);
        Ballot v2 = ((WriteOutcome.Applied) await(again.submit(put("b", "2")))).version();
        assertTrue(v2.compareTo(v1) > 0, v2 + " > " + v1);
    }

    @Test
    void acknowledgedWritesAreReplayedFromTheLogAfterACrash() throws Exception {
        MapDbStore s = open(dir);
        for (int i = 0; i < 200; i++) {
            await(s.submit(put("k" + i, "v" + i)));
        }
        await(s.submit(new Mutation("k7", null, Precondition.NONE)));
        // no checkpoint has run (interval is an hour): the files as they are now are what a crash leaves
        Path image = Files.createDirectory(images.resolve("crash"));
        copyTree(dir, image);
        MapDbStore recovered = open(image);
        for (int i = 0; i < 200; i++) {
            KeyState st = recovered.read("k" + i);
            if (i == 7) {
                assertFalse(st.exists());
                assertTrue(st.committed().isTombstone());
            } else {
                assertArrayEquals(("v" + i).getBytes(), st.committed().value(), "k" + i);
            }
        }
        assertEquals(0, recovered.stats().groupCommits());
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "row cache {0} bytes")
    @org.junit.jupiter.params.provider.ValueSource(longs = {0, StoreSettings.ROW_CACHE_BYTES_DEFAULT})
    void rowsChangedSinceTheLastCheckpointAreReadScannedAndThenCheckpointedIntoMapDb(long cacheBytes) throws Exception {
        rowCacheBytes = cacheBytes; // 0: after the checkpoint every read below goes to MapDB
        MapDbStore s = open(dir);
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 50; i++) {
                await(s.submit(put("k" + i, "v" + i + "." + round)));
            }
        }
        await(s.submit(new Mutation("k7", null, Precondition.NONE)));
        // a cleanup's removal: the row's state becomes empty
        s.update("k9", (current, fresh) -> new io.nimbus.core.paxos.Acceptor.Transition<>(KeyState.EMPTY, null))
                .get(10, TimeUnit.SECONDS);
        long checkpointsBefore = s.stats().checkpoints();
        assertNewestState(s);
        assertEquals(49, s.scan(k -> true, null, 1000, 1 << 20).rows().size(), "k9 removed, k7 a tombstone");

        // The interval passes: the writer checkpoints by itself, and the log it had is dropped.
        micros.addAndGet(TimeUnit.HOURS.toMicros(2));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (s.stats().checkpoints() == checkpointsBefore && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(s.stats().checkpoints() > checkpointsBefore, "no checkpoint within 10 s");
        assertNewestState(s);
        // Everything the log held is gone with it, so what a crash now leaves is MapDB's commit alone.
        Path image = Files.createDirectory(images.resolve("after-checkpoint"));
        copyTree(dir, image);
        MapDbStore recovered = open(image);
        assertNewestState(recovered);
        MapDbStore.Page page = recovered.scan(k -> true, null, 1000, 1 << 20);
        assertEquals(49, page.rows().size());
        assertFalse(page.rows().stream().anyMatch(r -> r.key().equals("k9")));
        assertEquals(0, recovered.verify() - 49, "rows in MapDB");
    }

    @Test
    void removedRowsTakeNoPlaceOnAScanPageAndAreNotCounted() throws Exception {
        MapDbStore s = open(dir);
        for (int i = 0; i < 5; i++) {
            await(s.submit(put("a" + i, "x")));
        }
        await(s.submit(put("b0", "y")));
        for (int i = 0; i < 5; i++) { // a cleanup removes the five rows that sort first
            s.update("a" + i, (current, fresh) -> new io.nimbus.core.paxos.Acceptor.Transition<>(KeyState.EMPTY, null))
                    .get(10, TimeUnit.SECONDS);
        }
        for (int pass = 0; pass < 2; pass++) { // before the checkpoint, and after it
            MapDbStore.Page page = s.scan(k -> true, null, 2, 1 << 20);
            assertEquals(List.of("b0"), page.rows().stream().map(MapDbStore.Row::key).toList(), "pass " + pass);
            assertFalse(page.more(), "pass " + pass);
            assertEquals(1, s.verify(), "pass " + pass);
            if (pass == 1) {
                break;
            }
            long before = s.stats().checkpoints();
            micros.addAndGet(TimeUnit.HOURS.toMicros(2));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (s.stats().checkpoints() == before && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(s.stats().checkpoints() > before, "no checkpoint within 10 s");
        }
    }

    private static void assertNewestState(MapDbStore s) {
        for (int i = 0; i < 50; i++) {
            KeyState st = s.read("k" + i);
            if (i == 7) {
                assertTrue(st.committed().isTombstone(), "k7");
            } else if (i == 9) {
                assertEquals(KeyState.EMPTY, st, "k9");
            } else {
                assertArrayEquals(("v" + i + ".2").getBytes(), st.committed().value(), "k" + i);
            }
        }
    }

    @Test
    void concurrentWritesShareOneLogSync() throws Exception {
        MapDbStore s = open(dir);
        gate.latch = new CountDownLatch(1);
        CompletableFuture<WriteOutcome> first = s.submit(put("first", "x"));
        assertTrue(gate.held.tryAcquire(5, TimeUnit.SECONDS));
        List<CompletableFuture<WriteOutcome>> rest = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            rest.add(s.submit(put("w" + i, "v")));
        }
        // nothing is visible, nor acknowledged, before it is durable
        assertFalse(first.isDone());
        assertFalse(s.read("first").exists());
        long before = s.stats().groupCommits();
        gate.latch.countDown();
        await(first);
        for (CompletableFuture<WriteOutcome> f : rest) {
            assertInstanceOf(WriteOutcome.Applied.class, await(f));
        }
        long syncs = s.stats().groupCommits() - before;
        assertTrue(syncs <= 2, "101 writes took " + syncs + " log syncs");
    }

    @Test
    void laterWritesInABatchSeeEarlierOnes() throws Exception {
        MapDbStore s = open(dir);
        Ballot v1 = ((WriteOutcome.Applied) await(s.submit(put("cas", "v1")))).version();
        gate.latch = new CountDownLatch(1);
        CompletableFuture<WriteOutcome> blocker = s.submit(put("other", "x"));
        assertTrue(gate.held.tryAcquire(5, TimeUnit.SECONDS));
        // two compare-and-sets from the same read land in the same batch: exactly one may win
        CompletableFuture<WriteOutcome> a = s.submit(new Mutation("cas", "a".getBytes(), new Precondition.VersionIn(List.of(v1))));
        CompletableFuture<WriteOutcome> b = s.submit(new Mutation("cas", "b".getBytes(), new Precondition.VersionIn(List.of(v1))));
        CompletableFuture<WriteOutcome> c = s.submit(new Mutation("new", "c".getBytes(), new Precondition.Absent()));
        CompletableFuture<WriteOutcome> d = s.submit(new Mutation("new", "d".getBytes(), new Precondition.Absent()));
        gate.latch.countDown();
        await(blocker);
        WriteOutcome.Applied won = assertInstanceOf(WriteOutcome.Applied.class, await(a));
        WriteOutcome.PreconditionFailed lost = assertInstanceOf(WriteOutcome.PreconditionFailed.class, await(b));
        assertEquals(won.version(), lost.current());
        assertInstanceOf(WriteOutcome.Applied.class, await(c));
        assertInstanceOf(WriteOutcome.PreconditionFailed.class, await(d));
        assertArrayEquals("a".getBytes(), s.read("cas").committed().value());
        assertArrayEquals("c".getBytes(), s.read("new").committed().value());
    }

    @Test
    void aSecondOpenOfTheSameDirectoryIsRefused() {
        open(dir);
        StoreOpenException e = assertThrows(StoreOpenException.class, () -> open(dir));
        assertTrue(e.getMessage().contains("in use by another Nimbus process"), e.getMessage());
    }

    @Test
    void refusesToStartEmptyWhenTheStoreFileIsGone() throws Exception {
        MapDbStore s = open(dir);
        await(s.submit(put("a", "1")));
        s.close();
        open.clear();
        Files.delete(dir.resolve(MapDbStore.DB_FILE));
        StoreOpenException e = assertThrows(StoreOpenException.class, () -> open(dir));
        assertTrue(e.getMessage().contains("Refusing to start empty"), e.getMessage());
    }

    @Test
    void refusesToStartOverAnOrphanedLog() throws Exception {
        MapDbStore s = open(dir);
        await(s.submit(put("a", "1")));
        s.close();
        open.clear();
        Files.delete(dir.resolve(MapDbStore.DB_FILE));
        Files.delete(dir.resolve(MapDbStore.MARKER_FILE));
        StoreOpenException e = assertThrows(StoreOpenException.class, () -> open(dir));
        assertTrue(e.getMessage().contains("wal/"), e.getMessage());
    }

    @Test
    void aDamagedStoreFileFailsTheOpen() throws Exception {
        MapDbStore s = open(dir);
        await(s.submit(put("a", "1")));
        s.close();
        open.clear();
        Path db = dir.resolve(MapDbStore.DB_FILE);
        byte[] bytes = Files.readAllBytes(db);
        for (int i = 0; i < 64; i++) {
            bytes[i] = (byte) 0xA5;
        }
        Files.write(db, bytes);
        StoreOpenException e = assertThrows(StoreOpenException.class, () -> open(dir));
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
    }

    @Test
    void aFailedCommitFailsItsWritesAndStopsTheStore() throws Exception {
        MapDbStore s = open(dir);
        await(s.submit(put("a", "1")));
        gate.fail = new IllegalStateException("disk on fire");
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(s.submit(put("b", "2"))));
        assertInstanceOf(StoreFailedException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("unknown"), e.getCause().getMessage());
        assertFalse(s.isHealthy());
        assertThrows(StoreFailedException.class, () -> s.read("a"));
        ExecutionException after = assertThrows(ExecutionException.class, () -> await(s.submit(put("c", "3"))));
        assertInstanceOf(StoreFailedException.class, after.getCause());
    }

    @Test
    void aFullQueueRefusesAtOnce() throws Exception {
        MapDbStore s = MapDbStore.open(new StoreSettings(dir, "n1", 2, 512, 3_600_000, 64 << 20, micros::get, gate, java.util.UUID::randomUUID,
                new StoreSettings.DiskLimits(0, 16 << 20, DiskSpace.of(dir))));
        open.add(s);
        gate.latch = new CountDownLatch(1);
        CompletableFuture<WriteOutcome> held = s.submit(put("h", "x"));
        assertTrue(gate.held.tryAcquire(5, TimeUnit.SECONDS));
        CompletableFuture<WriteOutcome> q1 = s.submit(put("q1", "x"));
        CompletableFuture<WriteOutcome> q2 = s.submit(put("q2", "x"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> s.submit(put("over", "x")).get(1, TimeUnit.SECONDS));
        assertInstanceOf(StoreOverloadedException.class, e.getCause());
        gate.latch.countDown();
        await(held);
        await(q1);
        await(q2);
        assertFalse(s.read("over").exists());
    }

    @Test
    void everyStartHasAHigherGenerationEvenIfTheClockGoesBack() {
        MapDbStore s = open(dir);
        long g1 = s.generation();
        assertEquals(1000, g1, "first start: the clock in ms");
        s.close();
        open.clear();
        micros.set(5); // the wall clock went back
        MapDbStore again = open(dir);
        assertEquals(g1 + 1, again.generation());
        again.close();
        open.clear();
        micros.set(9_000_000);
        assertEquals(9000, open(dir).generation());
    }

    @Test
    void theHostIdAndTheTopologySurviveRestartsAndAWipedStoreIsAnotherHost() throws Exception {
        MapDbStore s = open(dir);
        io.nimbus.core.topology.HostId host = s.hostId();
        assertEquals(null, s.topology());
        io.nimbus.core.topology.Topology t1 = io.nimbus.core.topology.Topology.bootstrap(java.util.UUID.randomUUID(), 3,
                new io.nimbus.core.topology.Worker("n1", host, new io.nimbus.core.gossip.Endpoint("127.0.0.1", 9000), 8000,
                        List.of(-5L, 7L)));
        assertEquals(t1, s.install(t1).get(5, java.util.concurrent.TimeUnit.SECONDS));
        s.close();
        open.clear();
        MapDbStore again = open(dir);
        assertEquals(host, again.hostId());
        assertEquals(t1, again.topology(), "loaded when the store opens, before anything is served");
        again.close();
        open.clear();
        java.nio.file.Path wiped = images.resolve("wiped");
        MapDbStore fresh = open(wiped);
        org.junit.jupiter.api.Assertions.assertNotEquals(host, fresh.hostId());
        assertEquals(null, fresh.topology());
    }

    @Test
    void aTopologyIsInstalledInQueueOrderAndNeverGoesBack() throws Exception {
        MapDbStore s = open(dir);
        io.nimbus.core.topology.Worker w = new io.nimbus.core.topology.Worker("n1", s.hostId(),
                new io.nimbus.core.gossip.Endpoint("127.0.0.1", 9000), 8000, List.of(1L, 1L << 40));
        io.nimbus.core.topology.Topology t1 = io.nimbus.core.topology.Topology.bootstrap(java.util.UUID.randomUUID(), 3, w);
        io.nimbus.core.topology.Topology t2 = t1.startJoin(new io.nimbus.core.topology.Worker("n2",
                new io.nimbus.core.topology.HostId(java.util.UUID.randomUUID()),
                new io.nimbus.core.gossip.Endpoint("127.0.0.1", 9001), 8001, List.of(1L << 50)));
        s.install(t1).get(5, java.util.concurrent.TimeUnit.SECONDS);
        // an update queued before the install of t2 is decided under t1; one queued after, under t2
        java.util.concurrent.CompletableFuture<Long> before = s.update("k", (cur, fresh) ->
                new io.nimbus.core.paxos.Acceptor.Transition<>(cur, s.topology().epoch()));
        java.util.concurrent.CompletableFuture<io.nimbus.core.topology.Topology> installed = s.install(t2);
        java.util.concurrent.CompletableFuture<Long> after = s.update("k", (cur, fresh) ->
                new io.nimbus.core.paxos.Acceptor.Transition<>(cur, s.topology().epoch()));
        assertEquals(1L, before.get(5, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(t2, installed.get(5, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(2L, after.get(5, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(t2, s.install(t1).get(5, java.util.concurrent.TimeUnit.SECONDS), "an older epoch changes nothing");
        assertEquals(t2, s.fencePoint().get(5, java.util.concurrent.TimeUnit.SECONDS));
        io.nimbus.core.topology.Topology other = io.nimbus.core.topology.Topology.bootstrap(java.util.UUID.randomUUID(), 3, w)
                .startJoin(new io.nimbus.core.topology.Worker("n9", new io.nimbus.core.topology.HostId(java.util.UUID.randomUUID()),
                        new io.nimbus.core.gossip.Endpoint("127.0.0.1", 9009), 8009, List.of(1L << 45)))
                .finish().startJoin(new io.nimbus.core.topology.Worker("n8", new io.nimbus.core.topology.HostId(java.util.UUID.randomUUID()),
                        new io.nimbus.core.gossip.Endpoint("127.0.0.1", 9008), 8008, List.of(1L << 46)));
        assertEquals(4, other.epoch());
        assertEquals(t2, s.install(other).get(5, java.util.concurrent.TimeUnit.SECONDS),
                "another cluster's topology is never installed, however new its epoch");
    }

    @Test
    void anAcceptorPromiseIsDurableBeforeItsReplyAndRaisesTheLocalClock() throws Exception {
        MapDbStore s = open(dir);
        Ballot rival = new Ballot(9_000_000_000L, "rival");
        io.nimbus.core.paxos.PaxosMessage.PrepareReply reply = s.<io.nimbus.core.paxos.PaxosMessage.PrepareReply>update("k",
                (current, fresh) -> io.nimbus.core.paxos.Acceptor.prepare(current, rival)).get(10, TimeUnit.SECONDS);
        assertInstanceOf(io.nimbus.core.paxos.PaxosMessage.Promised.class, reply);
        // the files as they are now (no checkpoint for an hour) are what a crash would leave
        Path image = Files.createDirectory(images.resolve("promise"));
        copyTree(dir, image);
        assertEquals(rival, open(image).read("k").promised(), "the promise survives a crash");
        // a write issued here after seeing the rival's ballot gets a version above it
        Ballot mine = ((WriteOutcome.Applied) await(s.submit(put("other", "v")))).version();
        assertTrue(mine.compareTo(rival) > 0, mine + " > " + rival);
        // a transition that changes nothing writes nothing
        long syncs = s.stats().groupCommits();
        s.update("k", (current, fresh) -> io.nimbus.core.paxos.Acceptor.prepare(current, new Ballot(1, "low")))
                .get(10, TimeUnit.SECONDS);
        assertEquals(syncs, s.stats().groupCommits());
    }

    /**
     * A write in a term carries a version above its ballot (and above any promise): a lone write on this store, and
     * one after a crash, still gets a version above it, so a version never names two writes of a key.
     */
    @Test
    void aLoneWritesVersionIsAboveAnAcceptedWriteInATermsVersion() throws Exception {
        MapDbStore s = open(dir);
        Ballot term = new Ballot(1_000, "coord");
        io.nimbus.core.kv.Proposal ahead = io.nimbus.core.kv.Proposal.inTerm(term, new Ballot(9_000_000_000L, "coord"), "t".getBytes());
        s.update("k", (current, fresh) -> io.nimbus.core.paxos.Acceptor.accept(current, ahead)).get(10, TimeUnit.SECONDS);
        Path image = Files.createDirectory(images.resolve("term"));
        copyTree(dir, image);
        Ballot mine = ((WriteOutcome.Applied) await(s.submit(put("k", "v")))).version();
        assertTrue(mine.compareTo(ahead.version()) > 0, mine + " > " + ahead.version());
        Ballot afterCrash = ((WriteOutcome.Applied) await(open(image).submit(put("k", "v")))).version();
        assertTrue(afterCrash.compareTo(ahead.version()) > 0, "replayed: " + afterCrash + " > " + ahead.version());
    }

    /** Copies a store directory as a crash leaves it (the copy may be taken while the store is open). */
    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    @Test
    void writesAreRefusedNotAppliedBelowTheFreeSpaceMinimumAndResumeByThemselves() throws Exception {
        AtomicLong free = new AtomicLong(1L << 40);
        MapDbStore s = MapDbStore.open(new StoreSettings(dir, "n1", 1000, 512, 3_600_000, 64 << 20, micros::get, gate,
                java.util.UUID::randomUUID, new StoreSettings.DiskLimits(100L << 20, 4 << 20, free::get)));
        open.add(s);
        assertTrue(Files.size(dir.resolve(DiskReserve.FILE)) == 4 << 20, "the reserve is really written");
        await(s.submit(put("k", "before")));

        free.set(50L << 20); // below the 100 MiB minimum
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> s.submit(put("k", "during")).get(5, TimeUnit.SECONDS));
        assertInstanceOf(StoreDiskFullException.class, refused.getCause());
        assertTrue(refused.getCause().getMessage().contains("not applied"), refused.getCause().getMessage());
        assertEquals("before", new String(io.nimbus.core.kv.SingleReplica.settled(s.read("k")).committed().value()));
        assertTrue(s.isHealthy(), "a full disk is not a storage failure");

        free.set(1L << 40);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (s.diskFull() != null && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(null, s.diskFull(), "writes did not resume once space was back");
        await(s.submit(put("k", "after")));
        assertEquals("after", new String(io.nimbus.core.kv.SingleReplica.settled(s.read("k")).committed().value()));
    }

    @Test
    void aStartWithoutRoomToReplayTheLogRefusesAndChangesNothing() throws Exception {
        MapDbStore first = open(dir);
        for (int i = 0; i < 50; i++) {
            await(first.submit(put("k" + i, "v" + i)));
        }
        Path crashed = images.resolve("crashed");
        copyTree(dir, crashed); // as a crash leaves it: the log holds the writes, MapDB not yet committed
        long[] free = {1L << 20}; // 1 MiB: less than a checkpoint's fixed overhead
        StoreOpenException e = assertThrows(StoreOpenException.class, () -> MapDbStore.open(new StoreSettings(crashed,
                "n1", 1000, 512, 3_600_000, 64 << 20, micros::get, gate, java.util.UUID::randomUUID,
                new StoreSettings.DiskLimits(0, 4 << 20, () -> free[0]))));
        assertTrue(e.getMessage().contains("full") && e.getMessage().contains("Nothing was changed"), e.getMessage());
        free[0] = 1L << 40;
        MapDbStore again = MapDbStore.open(new StoreSettings(crashed, "n1", 1000, 512, 3_600_000, 64 << 20,
                micros::get, gate, java.util.UUID::randomUUID, new StoreSettings.DiskLimits(0, 4 << 20, () -> free[0])));
        open.add(again);
        for (int i = 0; i < 50; i++) {
            assertEquals("v" + i, new String(io.nimbus.core.kv.SingleReplica.settled(again.read("k" + i)).committed().value()));
        }
    }
}
