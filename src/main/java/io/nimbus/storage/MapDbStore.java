package io.nimbus.storage;

import io.nimbus.core.kv.BallotClock;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.SingleReplica;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Topology;
import org.jboss.logging.Logger;
import org.mapdb.Atomic;
import org.mapdb.DB;
import org.mapdb.DBException;
import org.mapdb.DBMaker;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Durable per-key state: MapDB holds it, Nimbus's own {@link WriteAheadLog} makes writes durable.
 *
 * <p><b>Group commit.</b> Writers do not commit. A mutation is queued (bounded) and one writer
 * thread takes every mutation waiting, decides each in order under the {@link SingleReplica} rule
 * (later ones in a batch see earlier ones), appends the resulting states to the log with one write
 * and one fdatasync, then applies them to MapDB and completes their futures. Throughput is batch
 * size × fsync rate, not the fsync rate alone.
 *
 * <p><b>No dirty reads.</b> Records reach MapDB only after they are durable in the log, so a read
 * (which goes straight to MapDB, lock-free) never returns a value that a crash could take away.
 *
 * <p><b>Checkpoints.</b> Every {@code checkpointIntervalMs}, or when the log segment passes
 * {@code walSegmentBytesMax}, the writer commits MapDB (atomically, through MapDB's own log) together
 * with the last applied log sequence number, then starts a new segment and deletes the old ones.
 * On open, records after that number are replayed. Stopping cleanly checkpoints.
 *
 * <p><b>Fail-stop.</b> If deciding, logging or applying a batch throws, the outcome of that batch is
 * unknown: its writes fail with {@link StoreFailedException} and the store refuses all further
 * requests until restarted (which replays the log).
 */
public final class MapDbStore implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(MapDbStore.class);
    static final String DB_FILE = "nimbus.db";
    static final String MARKER_FILE = "NIMBUS_FORMAT";
    static final String FORMAT = "nimbus-store-1";

    private final StoreSettings settings;
    private final DataDirLock lock;
    private final DB db;
    private final HTreeMap<String, byte[]> kv;
    private final Atomic.Long ballotHighWater;
    private final Atomic.Long appliedSeq;
    private final BallotClock clock;
    private final WriteAheadLog wal;
    private final BlockingQueue<Pending> queue;
    private final StoreStats stats = new StoreStats();
    private final Thread writer;
    private final long generation;
    /** Serialises MapDB commits (the writer's checkpoints and topology installs). */
    private final Object commitLock = new Object();
    private final Atomic.Var<byte[]> topologyRecord;
    private final HostId hostId;
    /** The topology this store holds, persisted before it is set; changed only on the writer thread (after open). */
    private volatile Topology topology;
    private long lastSeq;
    private long checkpointedSeq;
    private long lastCheckpointMicros;
    private volatile boolean closing;
    private volatile Throwable failure;

    /** A queued change to one key, or (with {@code control} set) an action the writer runs in queue order. */
    private record Pending(String key, KeyUpdate<?> update, CompletableFuture<Object> result,
                           java.util.function.Supplier<Object> control) {
    }

    private MapDbStore(StoreSettings settings, DataDirLock lock, DB db) throws IOException {
        this.settings = settings;
        this.lock = lock;
        this.db = db;
        this.kv = db.hashMap("kv", Serializer.STRING, Serializer.BYTE_ARRAY).createOrOpen();
        this.ballotHighWater = db.atomicLong("ballotHighWater").createOrOpen();
        this.appliedSeq = db.atomicLong("walAppliedSeq").createOrOpen();
        this.clock = new BallotClock(settings.nodeId(), ballotHighWater.get());
        this.lastSeq = appliedSeq.get();
        this.checkpointedSeq = lastSeq;
        long[] replayed = {0};
        this.wal = WriteAheadLog.openAndReplay(settings.dataDir(), lastSeq, entry -> {
            if (entry.seq() != lastSeq + 1) {
                throw new StoreOpenException("write-ahead log skips from record " + lastSeq + " to " + entry.seq()
                        + ": a segment is missing. Restore the data directory from a backup.");
            }
            KeyState state = KeyStateCodec.decode(entry.state());
            if (state.promised() != null) {
                clock.observe(state.promised());
            }
            kv.put(entry.key(), entry.state());
            lastSeq = entry.seq();
            replayed[0]++;
        });
        if (replayed[0] > 0) {
            LOG.infof("replayed %d write-ahead log records (up to #%d)", replayed[0], lastSeq);
        }
        checkpoint();
        this.topologyRecord = db.atomicVar("topology", Serializer.BYTE_ARRAY).createOrOpen();
        byte[] held = topologyRecord.get();
        try {
            this.topology = held == null || held.length == 0 ? null : TopologyCodec.decode(held);
        } catch (KeyStateCodec.CorruptRecordException e) {
            throw new StoreOpenException("the topology stored in " + settings.dataDir().toAbsolutePath()
                    + " is damaged (" + e.getMessage() + "). Restore the directory from a backup.", e);
        }
        Atomic.String host = db.atomicString("hostId").createOrOpen();
        if (host.get() == null || host.get().isEmpty()) {
            if (topology != null) {
                throw new StoreOpenException("store in " + settings.dataDir().toAbsolutePath() + " holds a topology but "
                        + "no host id: it is damaged. Restore it from a backup.");
            }
            host.set(settings.newHostId().get().toString());
        }
        this.hostId = HostId.parse(host.get());
        Atomic.Long persistedGeneration = db.atomicLong("generation").createOrOpen();
        this.generation = Math.max(persistedGeneration.get() + 1, settings.nowMicros().getAsLong() / 1000);
        persistedGeneration.set(generation);
        db.commit();
        this.queue = new ArrayBlockingQueue<>(settings.writeQueueMax());
        this.writer = new Thread(this::writeLoop, "nimbus-group-commit");
        this.writer.start();
    }

    /**
     * Opens (or creates) the store under {@code settings.dataDir()}. Fails with a
     * {@link StoreOpenException} that says what to do when the directory is locked by another process,
     * the files are damaged, or files are missing: it never starts empty over existing data.
     */
    public static MapDbStore open(StoreSettings settings) {
        Path dir = settings.dataDir();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new StoreOpenException("cannot create data directory " + dir.toAbsolutePath() + ": " + e, e);
        }
        DataDirLock lock;
        try {
            lock = DataDirLock.acquire(dir);
        } catch (IOException e) {
            throw new StoreOpenException("cannot lock data directory " + dir.toAbsolutePath() + ": " + e, e);
        }
        try {
            DB db = openDb(dir);
            try {
                return new MapDbStore(settings, lock, db);
            } catch (IOException | RuntimeException e) {
                db.close();
                throw e;
            }
        } catch (IOException e) {
            try {
                lock.close();
            } catch (IOException closeError) {
                e.addSuppressed(closeError);
            }
            throw new StoreOpenException("cannot open the write-ahead log in " + dir.toAbsolutePath() + ": " + e, e);
        } catch (RuntimeException e) {
            try {
                lock.close();
            } catch (IOException closeError) {
                e.addSuppressed(closeError);
            }
            throw e;
        }
    }

    private static DB openDb(Path dir) {
        Path file = dir.resolve(DB_FILE);
        Path marker = dir.resolve(MARKER_FILE);
        boolean fileExists = Files.exists(file);
        boolean markerExists = Files.exists(marker);
        if (!fileExists) {
            if (markerExists) {
                throw new StoreOpenException("data directory " + dir.toAbsolutePath() + " was initialised ("
                        + MARKER_FILE + " is there) but its store file " + DB_FILE + " is missing. Refusing to "
                        + "start empty over lost data: restore the file from a backup, or remove the directory "
                        + "to start this node from nothing.");
            }
            List<String> strays = listStoreFiles(dir);
            Path walDir = dir.resolve(WriteAheadLog.DIR);
            if (Files.isDirectory(walDir) && !listStoreFiles(walDir).isEmpty()) {
                strays = new ArrayList<>(strays);
                strays.add(WriteAheadLog.DIR + "/");
            }
            if (!strays.isEmpty()) {
                throw new StoreOpenException("data directory " + dir.toAbsolutePath() + " holds " + strays
                        + " but no " + DB_FILE + ". Refusing to start over them: move them away or restore "
                        + DB_FILE + ".");
            }
        }
        DB db;
        try {
            db = DBMaker.fileDB(file.toFile()).transactionEnable().fileMmapEnableIfSupported().make();
        } catch (DBException | IllegalStateException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new StoreOpenException("store file " + file.toAbsolutePath() + " is damaged and cannot be opened ("
                    + e.getMessage() + "). Nimbus will not start over it: restore it from a backup or, if this "
                    + "replica's data can be rebuilt from others, remove the directory.", e);
        }
        try {
            Atomic.String format = db.atomicString("format").createOrOpen();
            String found = format.get();
            if (found == null || found.isEmpty()) {
                if (markerExists) {
                    throw new StoreOpenException("store file " + file.toAbsolutePath() + " has no format record but "
                            + MARKER_FILE + " says it was initialised: the file is damaged or was replaced.");
                }
                format.set(FORMAT);
                db.commit();
            } else if (!FORMAT.equals(found)) {
                throw new StoreOpenException("store file " + file.toAbsolutePath() + " has format '" + found
                        + "', this Nimbus reads '" + FORMAT + "'.");
            }
            if (!markerExists) {
                writeMarker(marker);
            }
            return db;
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    private static List<String> listStoreFiles(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(DB_FILE) || n.startsWith("wal-")).sorted().toList();
        } catch (IOException e) {
            throw new StoreOpenException("cannot list data directory " + dir.toAbsolutePath() + ": " + e, e);
        }
    }

    private static void writeMarker(Path marker) {
        try (FileChannel ch = FileChannel.open(marker, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap((FORMAT + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            ch.force(true);
        } catch (IOException e) {
            throw new StoreOpenException("cannot write " + marker.toAbsolutePath() + ": " + e, e);
        }
    }

    /** This store's identity: created with the store, kept for its life (a wiped store gets a new one). */
    public HostId hostId() {
        return hostId;
    }

    /** The topology this store holds (persisted), or null if it never held one. */
    public Topology topology() {
        return topology;
    }

    /**
     * Makes {@code next} this store's topology if it is newer than the one held: persisted (MapDB
     * commit) and then published, on the writer thread, in queue order. Updates queued before it are
     * decided (and their fences checked) under the older topology and are durable before this
     * completes; updates queued after it see {@code next}. A topology of another cluster than the one
     * held is never installed. Completes with the topology held afterwards (compare it with {@code next}).
     */
    public CompletableFuture<Topology> install(Topology next) {
        CompletableFuture<Object> result = new CompletableFuture<>();
        byte[] encoded = TopologyCodec.encode(next);
        enqueue(new Pending(null, null, result, () -> {
            Topology held = topology;
            if (held == null || (next.epoch() > held.epoch() && held.clusterId().equals(next.clusterId()))) {
                synchronized (commitLock) {
                    topologyRecord.set(encoded);
                    db.commit();
                }
                topology = next;
            }
            return topology;
        }));
        return result.thenApply(x -> (Topology) x);
    }

    /**
     * Completes once every update queued before it has been decided and made durable: after it, no
     * decision taken under an older topology is still pending (the barrier's fence point).
     */
    public CompletableFuture<Topology> fencePoint() {
        CompletableFuture<Object> result = new CompletableFuture<>();
        enqueue(new Pending(null, null, result, () -> topology));
        return result.thenApply(x -> (Topology) x);
    }

    /** The committed (durable) state of {@code key} ({@link KeyState#EMPTY} if never written). */
    public KeyState read(String key) {
        checkUsable();
        return KeyStateCodec.decode(kv.get(key));
    }

    /**
     * Queues a client write on a lone replica, decided by the {@link SingleReplica} rule. The future
     * completes once the outcome is durable; it fails with {@link StoreOverloadedException} (not
     * queued, safe to retry) or {@link StoreFailedException}.
     */
    public CompletableFuture<WriteOutcome> submit(Mutation mutation) {
        return update(mutation.key(), (current, fresh) -> {
            WriteOutcome o = SingleReplica.apply(current, mutation, fresh.get());
            return new Acceptor.Transition<>(o instanceof WriteOutcome.Applied a ? a.next() : current, o);
        });
    }

    /**
     * Queues a change to one key's registers (an acceptor's prepare, accept or commit, or a client
     * write). The future completes with the reply once the new state is durable; failures as for
     * {@link #submit}.
     */
    @SuppressWarnings("unchecked")
    public <R> CompletableFuture<R> update(String key, KeyUpdate<R> update) {
        CompletableFuture<Object> result = new CompletableFuture<>();
        enqueue(new Pending(key, update, result, null));
        return (CompletableFuture<R>) result;
    }

    private void enqueue(Pending pending) {
        CompletableFuture<Object> result = pending.result();
        Throwable failed = failure;
        if (failed != null || closing) {
            result.completeExceptionally(new StoreFailedException(
                    closing ? "store is shutting down" : "store has failed: " + failed.getMessage(), failed));
            return;
        }
        if (!queue.offer(pending)) {
            stats.rejectedOverload.incrementAndGet();
            result.completeExceptionally(new StoreOverloadedException(queue.size()));
        } else if ((failure != null || closing) && queue.remove(pending)) {
            // Raced with fail() or close(): the writer will never see it, so it was not applied.
            result.completeExceptionally(new StoreFailedException("store stopped before this write was applied", failure));
        }
    }

    /**
     * This start's generation: above every earlier start's (persisted before it is returned), and at
     * least the wall clock in milliseconds. Gossip uses it so that peers replace this node's old state.
     */
    public long generation() {
        return generation;
    }

    /**
     * The highest ballot counter this store has issued or seen promised, as of the last checkpoint:
     * a coordinator on this node starts its own ballots above it.
     */
    public long ballotHighWaterMark() {
        return ballotHighWater.get();
    }

    public boolean isHealthy() {
        return failure == null && !closing;
    }

    public Throwable failure() {
        return failure;
    }

    public StoreStats stats() {
        return stats;
    }

    public int queued() {
        return queue.size();
    }

    private void checkUsable() {
        Throwable failed = failure;
        if (failed != null) {
            throw new StoreFailedException("store has failed: " + failed.getMessage(), failed);
        }
    }

    private void writeLoop() {
        List<Pending> batch = new ArrayList<>(settings.writeBatchMax());
        while (true) {
            Pending first;
            try {
                first = queue.poll(20, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(new StoreFailedException("writer interrupted", e), List.of());
                return;
            }
            if (first == null) {
                if (closing) {
                    return;
                }
                if (!maybeCheckpoint()) {
                    return;
                }
                continue;
            }
            batch.add(first);
            queue.drainTo(batch, settings.writeBatchMax() - 1);
            if (!commitBatch(batch) || !maybeCheckpoint()) {
                return;
            }
            batch.clear();
        }
    }

    /** Decides, logs durably, applies and answers one batch; false if the store failed. */
    private boolean commitBatch(List<Pending> batch) {
        Object[] replies = new Object[batch.size()];
        Map<String, KeyState> decided = new HashMap<>();
        List<WriteAheadLog.Entry> entries = new ArrayList<>(batch.size());
        try {
            long now = settings.nowMicros().getAsLong();
            long seq = lastSeq;
            for (int i = 0; i < batch.size(); i++) {
                if (batch.get(i).control() != null) {
                    replies[i] = batch.get(i).control().get();
                    continue;
                }
                String key = batch.get(i).key();
                KeyState current = decided.containsKey(key) ? decided.get(key) : KeyStateCodec.decode(kv.get(key));
                Acceptor.Transition<?> t = batch.get(i).update().apply(current, () -> clock.next(now));
                if (t.changed(current)) {
                    if (t.next().promised() != null) {
                        clock.observe(t.next().promised());
                    }
                    decided.put(key, t.next());
                    entries.add(new WriteAheadLog.Entry(++seq, key, KeyStateCodec.encode(t.next())));
                }
                replies[i] = t.reply();
            }
            settings.gate().beforeCommit(batch.size());
            if (!entries.isEmpty()) {
                long start = System.nanoTime();
                wal.append(entries);
                stats.groupCommitNanos.addAndGet(System.nanoTime() - start);
                stats.groupCommits.incrementAndGet();
                for (WriteAheadLog.Entry e : entries) {
                    kv.put(e.key(), e.state());
                }
                lastSeq = seq;
            }
            stats.mutations.addAndGet(batch.size());
        } catch (Throwable t) {
            if (t instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            fail(t, batch);
            return false;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).result().complete(replies[i]);
        }
        return true;
    }

    /** Checkpoints if the interval has passed with new records, or the log segment is full; false if that failed. */
    private boolean maybeCheckpoint() {
        long now = settings.nowMicros().getAsLong();
        boolean due = lastSeq > checkpointedSeq
                && (now - lastCheckpointMicros >= settings.checkpointIntervalMs() * 1000
                || wal.currentBytes() >= settings.walSegmentBytesMax());
        if (!due) {
            return true;
        }
        try {
            checkpoint();
            return true;
        } catch (Throwable t) {
            fail(t, List.of());
            return false;
        }
    }

    /** Commits MapDB with the last applied log record, then starts a new log segment and drops the old ones. */
    private void checkpoint() throws IOException {
        long start = System.nanoTime();
        synchronized (commitLock) {
            appliedSeq.set(lastSeq);
            ballotHighWater.set(clock.highWaterMark());
            db.commit();
        }
        wal.startSegment(lastSeq + 1);
        checkpointedSeq = lastSeq;
        lastCheckpointMicros = settings.nowMicros().getAsLong();
        stats.checkpointNanos.addAndGet(System.nanoTime() - start);
        stats.checkpoints.incrementAndGet();
    }

    private void fail(Throwable cause, List<Pending> batch) {
        failure = cause;
        LOG.errorf(cause, "storage failed; refusing further requests until restart (the log replays what was "
                + "committed). %d in-flight writes have an unknown outcome", batch.size());
        try {
            db.rollback();
        } catch (RuntimeException rollbackError) {
            cause.addSuppressed(rollbackError);
        }
        StoreFailedException unknown = new StoreFailedException(
                "storage failed while committing; the outcome of this write is unknown", cause);
        batch.forEach(p -> p.result().completeExceptionally(unknown));
        List<Pending> rest = new ArrayList<>();
        queue.drainTo(rest);
        StoreFailedException notApplied = new StoreFailedException("storage failed before this write was applied", cause);
        rest.forEach(p -> p.result().completeExceptionally(notApplied));
    }

    /** Stops taking writes, commits what is queued, and closes the files and the lock. */
    @Override
    public void close() {
        closing = true;
        try {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            throw new IllegalStateException("group-commit writer did not stop within 30 s; files left open");
        }
        try {
            if (failure == null) {
                checkpoint();
            }
            wal.close();
        } catch (IOException e) {
            LOG.errorf(e, "final checkpoint failed; the write-ahead log will replay on the next start");
        } finally {
            try {
                db.close();
            } finally {
                try {
                    lock.close();
                } catch (IOException e) {
                    LOG.warnf(e, "could not release %s", settings.dataDir().resolve(DataDirLock.FILE));
                }
            }
        }
    }
}
