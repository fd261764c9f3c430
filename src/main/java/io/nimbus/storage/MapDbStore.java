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
 * and one fdatasync, then makes them the keys' current state and completes their futures. Throughput is
 * batch size × fsync rate, not the fsync rate alone.
 *
 * <p><b>Rows since the last checkpoint</b> are held in memory (the newest state of each key changed since,
 * decoded and encoded), not written into MapDB one by one: a Paxos write changes a key three times on every
 * replica (promise, accept, commit), and MapDB's transactional store made each of those a read and a write
 * of its own uncommitted index (a third of a worker's CPU under writes). The next checkpoint writes each such
 * key into MapDB once. Checkpointed rows stay in memory as a cache of decoded state, up to
 * {@code rowCacheBytesMax}. Reads and the writer's decisions look in memory first, then in MapDB; only a
 * logged change, on the writer thread, adds a row. The rows' states are shared, not copied: read-only.
 *
 * <p><b>No dirty reads.</b> A state becomes readable only after it is durable in the log, so a read
 * (lock-free) never returns a value that a crash could take away.
 *
 * <p><b>Checkpoints.</b> Every {@code checkpointIntervalMs}, or when the log segment passes
 * {@code walSegmentBytesMax}, the writer writes the rows changed since into MapDB and commits it
 * (atomically, through MapDB's own log) together with the last logged sequence number, then starts a
 * new segment and deletes the old ones.
 * On open, records after that number are replayed. Stopping cleanly checkpoints.
 *
 * <p><b>Full disk.</b> MapDB 3.1 damages its file when the disk fills inside a commit, so the store
 * never starts one without room for it ({@link DiskSpace#commitBytes}): a batch is logged only if the
 * space it and its eventual checkpoint need, plus {@code freeBytesMin}, is free; a {@link DiskReserve}
 * file holds room for the checkpoint of everything accepted and is deleted to make that room when the
 * disk fills anyway (another process), and no write is taken while it is missing. A refused batch is
 * not applied ({@link StoreDiskFullException}); an append that runs out of space is cut off again. The
 * writer re-measures every {@value #SPACE_CHECK_MS} ms and resumes by itself. At start-up the log is
 * read first and replayed only if the space for it is there: otherwise the store refuses to open and
 * has changed nothing.
 *
 * <p><b>Fail-stop.</b> If deciding, logging or applying a batch throws anything else, the outcome of
 * that batch is unknown: its writes fail with {@link StoreFailedException} and the store refuses all
 * further requests until restarted (which replays the log).
 */
public final class MapDbStore implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(MapDbStore.class);
    static final String DB_FILE = "nimbus.db";
    static final String MARKER_FILE = "NIMBUS_FORMAT";
    static final String FORMAT = "nimbus-store-1";
    static final long SPACE_CHECK_MS = 200;

    private final StoreSettings settings;
    private final DataDirLock lock;
    private final DB db;
    private final HTreeMap<String, byte[]> kv;
    /**
     * Decoded rows, read before {@link #kv}: every row made durable in the write-ahead log since the last
     * checkpoint (its newest state; {@link #dirtyKeys}), which the next checkpoint writes into MapDB once per
     * key however often the key changed, and rows written before that, up to
     * {@code rowCacheBytesMax} (checkpointed ones, in no particular order, are dropped beyond it). Written only
     * by the writer thread, which alone knows a row's current state; read by any.
     */
    private final java.util.concurrent.ConcurrentHashMap<String, Cached> rows = new java.util.concurrent.ConcurrentHashMap<>();
    /** Keys whose row in {@link #rows} is newer than MapDB's (writer thread only). */
    private final java.util.Set<String> dirtyKeys = new java.util.HashSet<>();
    /** About how much {@link #rows} holds (writer thread only). */
    private long rowBytes;
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
    private final DiskReserve reserve;
    private long lastSeq;
    private long checkpointedSeq;
    private long lastCheckpointMicros;
    /** Log bytes and records applied to MapDB since its last commit: what the next checkpoint must take in. */
    private long pendingBytes;
    private long pendingRecords;
    private long lastSpaceCheckNanos;
    /** A checkpoint could not start a new log segment; the next ones retry at their interval. */
    private boolean segmentStuck;
    /** Set by the writer when the disk is too full to take writes; new writes are refused at once meanwhile. */
    private volatile String diskFull;
    private volatile boolean closing;
    private volatile Throwable failure;

    /** A key's durable state and its encoding. */
    private record Cached(KeyState state, byte[] record) {
        /** About what the row costs in memory (the value is held twice: decoded and encoded). */
        long bytes(String key) {
            return 2L * record.length + 2L * key.length() + 120;
        }
    }

    /** A queued change to one key, or (with {@code control} set) an action the writer runs in queue order. */
    private record Pending(String key, KeyUpdate<?> update, CompletableFuture<Object> result,
                           java.util.function.Supplier<Object> control) {
    }

    private MapDbStore(StoreSettings settings, DataDirLock lock, DB db, DiskReserve reserve) throws IOException {
        this.settings = settings;
        this.lock = lock;
        this.db = db;
        this.reserve = reserve;
        this.kv = db.hashMap("kv", Serializer.STRING, Serializer.BYTE_ARRAY).createOrOpen();
        this.ballotHighWater = db.atomicLong("ballotHighWater").createOrOpen();
        this.appliedSeq = db.atomicLong("walAppliedSeq").createOrOpen();
        this.clock = new BallotClock(settings.nodeId(), ballotHighWater.get());
        this.lastSeq = appliedSeq.get();
        this.checkpointedSeq = lastSeq;
        // Read the log first, apply it only once the space to take it in and commit it is known to be there:
        // a replay that runs out of space inside MapDB's commit would damage the store it replays into.
        List<WriteAheadLog.Entry> replay = new ArrayList<>();
        long[] expected = {lastSeq + 1};
        this.wal = WriteAheadLog.openAndReplay(settings.dataDir(), lastSeq, entry -> {
            if (entry.seq() != expected[0]) {
                throw new StoreOpenException("write-ahead log skips from record " + (expected[0] - 1) + " to "
                        + entry.seq() + ": a segment is missing. Restore the data directory from a backup.");
            }
            expected[0]++;
            replay.add(entry);
        });
        long replayBytes = replay.stream().mapToLong(WriteAheadLog::recordBytes).sum();
        // the replay and its checkpoint (the fixed overhead in the estimate also covers the small commit of this
        // start's host id and generation below)
        long need = DiskSpace.commitBytes(replayBytes, replay.size());
        if (!reserve.makeRoom(need)) {
            throw new StoreOpenException("the disk holding " + settings.dataDir().toAbsolutePath() + " is full: "
                    + "replaying " + replay.size() + " logged writes needs about " + need + " bytes free, "
                    + reserve.usable() + " are. Nothing was changed; free space (or move the directory to a "
                    + "larger disk) and start again.");
        }
        for (WriteAheadLog.Entry entry : replay) {
            KeyState state = KeyStateCodec.decode(entry.state());
            observe(clock, state);
            apply(entry.key(), entry.state());
            lastSeq = entry.seq();
        }
        if (!replay.isEmpty()) {
            LOG.infof("replayed %d write-ahead log records (up to #%d)", replay.size(), lastSeq);
        }
        pendingBytes = replayBytes;
        pendingRecords = replay.size();
        if (!checkpoint()) {
            throw new StoreOpenException("the disk holding " + settings.dataDir().toAbsolutePath() + " filled up "
                    + "during start-up; nothing was committed. Free space and start again.");
        }
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
        refreshDiskState();
        if (diskFull != null) {
            LOG.warnf("disk nearly full: %s. Reads are served, writes are refused until space is freed", diskFull);
        }
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
            DiskReserve reserve = new DiskReserve(dir, settings.disk().reserveBytes(), settings.disk().space());
            long mapDbLog = mapDbLogBytes(dir);
            long need = 2 * mapDbLog + DiskSpace.COMMIT_OVERHEAD_BYTES;
            if (!reserve.makeRoom(need)) {
                throw new StoreOpenException("the disk holding " + dir.toAbsolutePath() + " is full: opening the "
                        + "store " + (mapDbLog > 0 ? "(finishing a checkpoint of " + mapDbLog + " bytes) " : "")
                        + "needs about " + need + " bytes free, " + reserve.usable() + " are. Nothing was "
                        + "changed; free space and start again.");
            }
            DB db = openDb(dir);
            try {
                return new MapDbStore(settings, lock, db, reserve);
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
            db = MapDbFiles.maker(file).make();
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

    /** Bytes in MapDB's own log files (left by a checkpoint that a crash interrupted; MapDB finishes it on open). */
    private static long mapDbLogBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            long total = 0;
            for (Path p : files.filter(f -> f.getFileName().toString().startsWith(DB_FILE + ".")).toList()) {
                total += Files.size(p);
            }
            return total;
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
                // Rows reach MapDB only in a checkpoint, which commits them at once: this commit takes in the
                // topology alone.
                try {
                    if (!reserve.makeRoom(DiskSpace.commitBytes(encoded.length, 1))) {
                        throw new StoreDiskFullException("the disk is full: no room to persist topology epoch "
                                + next.epoch() + " (" + reserve.usable() + " bytes free); it was not installed");
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
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

    /**
     * Reads and decodes every record of the store: the number of keys, or a {@link StoreFailedException}
     * naming the first that is damaged. For checks after a fault, and for {@code store verify}.
     */
    public long verify() {
        checkUsable();
        long n = 0;
        try {
            for (Map.Entry<String, byte[]> e : kv.entrySet()) {
                KeyStateCodec.decode(e.getValue());
                if (!removed(e.getKey())) {
                    n++;
                }
            }
            // rows not checkpointed yet: their keys that MapDB does not hold yet count too
            for (Map.Entry<String, Cached> e : rows.entrySet()) {
                KeyStateCodec.decode(e.getValue().record());
                if (!removed(e.getKey()) && !kv.containsKey(e.getKey())) {
                    n++;
                }
            }
        } catch (RuntimeException e) {
            throw new StoreFailedException("the store in " + settings.dataDir().toAbsolutePath() + " is damaged after "
                    + n + " intact records: " + describe(e), e);
        }
        return n;
    }

    /** The record of a row that holds nothing: applying it removes the row (a cleanup, TOPOLOGY.md §8). */
    private static final byte[] EMPTY_RECORD = KeyStateCodec.encode(KeyState.EMPTY);

    private void apply(String key, byte[] record) {
        if (java.util.Arrays.equals(record, EMPTY_RECORD)) {
            kv.remove(key);
        } else {
            kv.put(key, record);
        }
    }

    /** One stored row as it is on disk: the key and its {@link KeyStateCodec} record. */
    public record Row(String key, byte[] record) {
    }

    /**
     * A page of a range scan, for streaming (TOPOLOGY.md §7): the durable rows whose keys {@code include}
     * accepts and sort after {@code after} (null: from the start), the smallest keys first, at most
     * {@code rowsMax} rows and about {@code bytesMax} bytes (at least one row). The map is unordered, so
     * each page reads every key: O(keys) per page. Rows written meanwhile may or may not be seen; the
     * caller only needs every row as of the moment it started.
     *
     * @return the rows, and whether more follow
     */
    public Page scan(java.util.function.Predicate<String> include, String after, int rowsMax, long bytesMax) {
        checkUsable();
        java.util.TreeSet<String> keys = new java.util.TreeSet<>();
        boolean more = false;
        // MapDB's keys and the rows' (a key in both is listed once); a row that holds nothing is a removal
        // (maybe not checkpointed yet) and must not take a place on the page
        for (Iterable<String> source : List.<Iterable<String>>of(kv.keySet(), rows.keySet())) {
            for (String key : source) {
                if ((after == null || key.compareTo(after) > 0) && !keys.contains(key) && !removed(key)
                        && include.test(key)) {
                    keys.add(key);
                    if (keys.size() > rowsMax) {
                        keys.pollLast();
                        more = true;
                    }
                }
            }
        }
        java.util.List<Row> rows = new java.util.ArrayList<>(keys.size());
        long bytes = 0;
        for (String key : keys) {
            byte[] record = durableRecord(key);
            if (record == null || java.util.Arrays.equals(record, EMPTY_RECORD)) {
                continue; // removed (by a cleanup) since the keys were listed, or removal not checkpointed yet
            }
            if (!rows.isEmpty() && bytes + record.length + key.length() > bytesMax) {
                more = true;
                break;
            }
            rows.add(new Row(key, record));
            bytes += record.length + key.length();
        }
        return new Page(java.util.List.copyOf(rows), more);
    }

    /** A page of {@link #scan}. */
    public record Page(java.util.List<Row> rows, boolean more) {
    }

    /**
     * Raises {@code clock} past every ballot {@code s} holds: its promise, and the versions of what it accepted and
     * committed (a write in a term has a version above its ballot and above any promise: a lone write's version must
     * still be above it, docs/PAXOS.md "Versions stay unique per key").
     */
    private static void observe(BallotClock clock, KeyState s) {
        if (s.promised() != null) {
            clock.observe(s.promised());
        }
        if (s.accepted() != null) {
            clock.observe(s.accepted().version());
        }
        if (s.committed() != null) {
            clock.observe(s.committed().version());
        }
    }

    /** The committed (durable) state of {@code key} ({@link KeyState#EMPTY} if never written). */
    public KeyState read(String key) {
        checkUsable();
        return stateOf(key);
    }

    /** Does {@code key}'s row say it was removed (a cleanup, maybe not checkpointed yet)? */
    private boolean removed(String key) {
        Cached r = rows.get(key);
        return r != null && java.util.Arrays.equals(r.record(), EMPTY_RECORD);
    }

    /** The durable record of {@code key}: the log's newest if not checkpointed yet, else MapDB's (null: none). */
    private byte[] durableRecord(String key) {
        Cached r = rows.get(key);
        return r != null ? r.record() : kv.get(key);
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
                    closing ? "store is shutting down" : "store has failed: " + describe(failed), failed));
            return;
        }
        String full = diskFull;
        if (full != null && pending.control() == null) {
            stats.rejectedDiskFull.incrementAndGet();
            result.completeExceptionally(new StoreDiskFullException(full + "; the write was not applied"));
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

    /** Why writes are being refused for lack of disk space, or null if they are not. */
    public String diskFull() {
        return diskFull;
    }

    /** Whether the disk reserve is held (false: the disk was too full to keep it; writes are refused). */
    public boolean reserveHeld() {
        return reserve.held();
    }

    private static String describe(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.toString();
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

    /** Is the writer's queue at least half full ({@code write-queue-max})? Work nobody waits for should wait. */
    public boolean busy() {
        return queue.size() * 2 >= settings.writeQueueMax();
    }

    private void checkUsable() {
        Throwable failed = failure;
        if (failed != null) {
            throw new StoreFailedException("store has failed: " + describe(failed), failed);
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
                if (!maybeCheckpoint() || !maybeRefreshDisk()) {
                    return;
                }
                continue;
            }
            batch.add(first);
            queue.drainTo(batch, settings.writeBatchMax() - 1);
            if (!commitBatch(batch) || !maybeCheckpoint() || !maybeRefreshDisk()) {
                return;
            }
            batch.clear();
        }
    }

    /**
     * Decides, logs durably, applies and answers one batch; false if the store failed. The decided records
     * are logged in chunks that each fit the disk reserve's budget ({@link #flush}); a chunk the disk has
     * no room for is refused, and with it every later request of the batch (they were decided on top of it).
     */
    private boolean commitBatch(List<Pending> batch) {
        Object[] replies = new Object[batch.size()];
        Map<String, KeyState> decided = new HashMap<>();
        List<WriteAheadLog.Entry> chunk = new ArrayList<>();
        List<KeyState> chunkStates = new ArrayList<>();
        long[] chunkBytes = {0};
        int firstUnlogged = 0; // the first request whose decision is not durable yet
        String refusal = null;
        try {
            long now = settings.nowMicros().getAsLong();
            long seq = lastSeq;
            for (int i = 0; i < batch.size() && refusal == null; i++) {
                Pending p = batch.get(i);
                if (p.control() != null) {
                    // A control sees every decision before it durable (a fence point, a topology install).
                    refusal = flush(chunk, chunkStates, chunkBytes);
                    if (refusal != null) {
                        break;
                    }
                    firstUnlogged = i;
                    try {
                        replies[i] = p.control().get();
                    } catch (StoreDiskFullException full) {
                        replies[i] = full;
                    }
                    firstUnlogged = i + 1;
                    continue;
                }
                String key = p.key();
                KeyState current = decided.get(key);
                if (current == null) {
                    current = stateOf(key);
                }
                Acceptor.Transition<?> t = p.update().apply(current, () -> clock.next(now));
                if (t.changed(current)) {
                    observe(clock, t.next());
                    WriteAheadLog.Entry e = new WriteAheadLog.Entry(seq + 1, key, KeyStateCodec.encode(t.next()));
                    long bytes = WriteAheadLog.recordBytes(e);
                    if (!chunk.isEmpty() && DiskSpace.commitBytes(pendingBytes + chunkBytes[0] + bytes,
                            pendingRecords + chunk.size() + 1) > reserve.bytes()) {
                        refusal = flush(chunk, chunkStates, chunkBytes);
                        if (refusal != null) {
                            break;
                        }
                        firstUnlogged = i;
                    }
                    seq++;
                    decided.put(key, t.next());
                    chunk.add(e);
                    chunkStates.add(t.next());
                    chunkBytes[0] += bytes;
                }
                replies[i] = t.reply();
            }
            if (refusal == null) {
                refusal = flush(chunk, chunkStates, chunkBytes);
            }
            if (refusal == null) {
                firstUnlogged = batch.size();
            }
            stats.mutations.addAndGet(firstUnlogged);
        } catch (Throwable t) {
            if (t instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            fail(t, batch);
            return false;
        }
        for (int i = 0; i < batch.size(); i++) {
            if (i >= firstUnlogged) {
                stats.rejectedDiskFull.incrementAndGet();
                batch.get(i).result().completeExceptionally(new StoreDiskFullException(refusal
                        + "; the write was not applied"));
            } else if (replies[i] instanceof StoreDiskFullException full) {
                stats.rejectedDiskFull.incrementAndGet();
                batch.get(i).result().completeExceptionally(full);
            } else {
                batch.get(i).result().complete(replies[i]);
            }
        }
        return true;
    }

    /**
     * A key's durable state: its row, or MapDB's. A row read from MapDB is not kept: only a logged change adds
     * a row, so the rows grow only with what the next checkpoint takes in and trims (a cleanup that reads
     * millions of rows and changes none must not fill the heap).
     */
    private KeyState stateOf(String key) {
        Cached r = rows.get(key);
        return r != null ? r.state() : KeyStateCodec.decode(kv.get(key));
    }

    private void putRow(String key, Cached row) {
        Cached old = rows.put(key, row);
        rowBytes += row.bytes(key) - (old == null ? 0 : old.bytes(key));
    }

    /** Drops checkpointed rows (MapDB holds the same) while the rows hold more than their limit. */
    private void trimRows() {
        if (rowBytes <= settings.rowCacheBytesMax()) {
            return;
        }
        long target = settings.rowCacheBytesMax() / 4 * 3;
        var it = rows.entrySet().iterator();
        while (rowBytes > target && it.hasNext()) {
            Map.Entry<String, Cached> e = it.next();
            if (!dirtyKeys.contains(e.getKey())) {
                rowBytes -= e.getValue().bytes(e.getKey());
                it.remove();
            }
        }
    }

    /**
     * Logs {@code chunk} durably and makes it the keys' state (in {@link #rows}, for the next checkpoint to
     * write into MapDB; {@code states} are the chunk's records decoded), checkpointing first if the reserve could not
     * otherwise cover the checkpoint after it. Returns null when done (the chunk is emptied), or why the
     * disk has no room for it (nothing of it was logged). Throws for any other failure.
     */
    private String flush(List<WriteAheadLog.Entry> chunk, List<KeyState> states, long[] chunkBytes) throws Exception {
        if (chunk.isEmpty()) {
            return null;
        }
        long bytes = chunkBytes[0];
        int records = chunk.size();
        String full = diskFull;
        if (full != null) {
            return full;
        }
        if (pendingRecords > 0
                && DiskSpace.commitBytes(pendingBytes + bytes, pendingRecords + records) > reserve.bytes()) {
            if (!checkpoint()) {
                return diskFull;
            }
        }
        long free = reserve.usable();
        // the log bytes, and MapDB's share for them (its fixed overhead is the reserve's to cover)
        long need = bytes + DiskSpace.commitBytes(bytes, records) - DiskSpace.COMMIT_OVERHEAD_BYTES;
        if (!reserve.held() || free - need < settings.disk().freeBytesMin()) {
            diskFull = describeFull(free, need);
            return diskFull;
        }
        settings.gate().beforeCommit(records);
        long start = System.nanoTime();
        try {
            wal.append(chunk);
        } catch (WriteAheadLog.AppendRefusedException e) {
            // The error text is the C library's (it may be localized): a disk with less room left than this
            // append and the minimum counts as full too.
            if (!e.noSpace() && reserve.usable() >= bytes + settings.disk().freeBytesMin()) {
                throw e;
            }
            diskFull = "the disk filled while logging (" + e.getCause().getMessage() + ")";
            return diskFull;
        }
        stats.groupCommitted(System.nanoTime() - start);
        for (int i = 0; i < chunk.size(); i++) {
            WriteAheadLog.Entry e = chunk.get(i);
            putRow(e.key(), new Cached(states.get(i), e.state()));
            dirtyKeys.add(e.key());
        }
        lastSeq = chunk.get(chunk.size() - 1).seq();
        pendingBytes += bytes;
        pendingRecords += records;
        chunk.clear();
        states.clear();
        chunkBytes[0] = 0;
        return null;
    }

    private String describeFull(long free, long need) {
        if (!reserve.held()) {
            return "the disk is full: the store's reserve of " + reserve.bytes() + " bytes (nimbus.storage."
                    + "disk-reserve-bytes) could not be kept; " + free + " bytes are free";
        }
        return "the disk is nearly full: " + free + " bytes free, a write needs about " + need + " and "
                + settings.disk().freeBytesMin() + " must stay free (nimbus.storage.disk-free-bytes-min)";
    }

    /**
     * Every {@value #SPACE_CHECK_MS} ms: re-measures free space, re-creates the reserve if it is missing
     * and there is room, and lifts (or sets) the refusal of writes. False if that failed the store.
     */
    private boolean maybeRefreshDisk() {
        long now = System.nanoTime();
        if (now - lastSpaceCheckNanos < TimeUnit.MILLISECONDS.toNanos(SPACE_CHECK_MS)) {
            return true;
        }
        lastSpaceCheckNanos = now;
        try {
            refreshDiskState();
            return true;
        } catch (Throwable t) {
            fail(t, List.of());
            return false;
        }
    }

    private void refreshDiskState() throws IOException {
        long min = settings.disk().freeBytesMin();
        boolean wasFull = diskFull != null;
        reserve.recheck();
        if (!reserve.held() && lastSeq > checkpointedSeq) {
            // Whatever was accepted gets checkpointed before the reserve is rebuilt (it may need that room).
            if (!checkpoint()) {
                return;
            }
        }
        reserve.tryCreate(min);
        long free = reserve.usable();
        // One more full-size write's worth above the minimum, so the refusal does not flap.
        long hysteresis = DiskSpace.COMMIT_OVERHEAD_BYTES;
        if (reserve.held() && free >= min + hysteresis) {
            if (wasFull) {
                LOG.infof("disk space is back (%d bytes free): taking writes again", free);
            }
            diskFull = null;
        } else if (!reserve.held() || free < min) {
            if (!wasFull) {
                LOG.warnf("disk nearly full (%d bytes free): refusing writes until space is freed", free);
            }
            diskFull = describeFull(free, 0);
        }
    }

    /**
     * Checkpoints if the interval has passed with new records, the log segment is full, or the records
     * waiting would take half of what the reserve holds beyond a commit's fixed overhead; false if the store
     * failed.
     */
    private boolean maybeCheckpoint() {
        long now = settings.nowMicros().getAsLong();
        boolean due = lastSeq > checkpointedSeq
                && (now - lastCheckpointMicros >= settings.checkpointIntervalMs() * 1000
                || (wal.currentBytes() >= settings.walSegmentBytesMax() && !segmentStuck)
                || (DiskSpace.commitBytes(pendingBytes, pendingRecords) - DiskSpace.COMMIT_OVERHEAD_BYTES) * 2
                > reserve.bytes() - DiskSpace.COMMIT_OVERHEAD_BYTES);
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

    /**
     * Commits MapDB with the last applied log record, then starts a new log segment and drops the old ones.
     * Only if the commit has room ({@link DiskReserve#makeRoom}, which deletes the reserve if it must):
     * otherwise nothing is committed, writes are refused, and false is returned (the log still holds
     * everything; the next try comes with the next space check).
     */
    private boolean checkpoint() throws IOException {
        long need = DiskSpace.commitBytes(pendingBytes, pendingRecords);
        if (!reserve.makeRoom(need)) {
            stats.checkpointsDeferred.incrementAndGet();
            diskFull = "the disk is full: a checkpoint needs about " + need + " bytes, " + reserve.usable()
                    + " are free even without the reserve";
            return false;
        }
        long start = System.nanoTime();
        synchronized (commitLock) {
            // Each key changed since the last checkpoint is written once, with its newest state. Readers go on
            // finding it in the rows until they are dropped, and in MapDB (the same state) after.
            for (String key : dirtyKeys) {
                apply(key, rows.get(key).record());
            }
            appliedSeq.set(lastSeq);
            ballotHighWater.set(clock.highWaterMark());
            db.commit();
        }
        dirtyKeys.clear();
        trimRows();
        pendingBytes = 0;
        pendingRecords = 0;
        try {
            wal.startSegment(lastSeq + 1);
            segmentStuck = false;
        } catch (IOException e) {
            if (!DiskSpace.isNoSpace(e)) {
                throw e;
            }
            segmentStuck = true; // the full segment must not force a checkpoint after every batch meanwhile
            // The commit is durable; the log goes on in its current segment and replay skips what it covers.
            LOG.warnf("checkpoint committed but no new log segment could be started (%s); retrying at the next "
                    + "checkpoint", e.getMessage());
        }
        checkpointedSeq = lastSeq;
        lastCheckpointMicros = settings.nowMicros().getAsLong();
        stats.checkpointNanos.addAndGet(System.nanoTime() - start);
        stats.checkpoints.incrementAndGet();
        return true;
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
            if (failure == null && !checkpoint()) {
                LOG.warnf("no room for the final checkpoint; the write-ahead log will replay on the next start");
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
