package io.nimbus.storage;

import io.nimbus.core.kv.KeyState;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Topology;
import org.mapdb.Atomic;
import org.mapdb.DB;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Rebuilds a store from what is intact in a damaged one, offline, into a new directory; the damaged
 * directory is never written (it is read from a copy). Every record MapDB can still reach and decode is
 * taken, then every intact write-ahead log record after the last checkpoint is replayed on top, through
 * a fresh store's normal write path (so the new store is durable and its ballot clock is above every
 * ballot it holds).
 *
 * <p>By default the new store gets a <b>new host id and no topology</b>: a replica that may have lost
 * promises or acceptances must not vote under its old identity (Paxos safety rests on them), so it
 * comes back as a new worker, and the cluster replaces the old one (step 6). Keeping the identity is
 * allowed only where nothing else holds the data: a store without a topology, or one whose cluster
 * has a replication factor of 1.
 */
public final class StoreSalvage {
    /** What was recovered. {@code unreadable}: keys MapDB listed but could not read or decode. */
    public record Report(long keysCopied, long keysUnreadable, boolean listingCut, List<String> problems,
                         long logRecordsReplayed, HostId hostId, boolean keptIdentity, Long topologyEpoch) {
    }

    private StoreSalvage() {
    }

    /**
     * Salvages {@code damaged} into {@code target} (which must not exist or be empty).
     * {@code keepIdentity}: keep the host id and topology (see the class comment for when that is allowed).
     */
    public static Report salvage(Path damaged, Path target, boolean keepIdentity, StoreSettings targetSettings)
            throws IOException, InterruptedException {
        if (Files.isDirectory(target)) {
            try (var entries = Files.list(target)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException(target + " is not empty: salvage writes a new store");
                }
            }
        }
        if (!Files.isRegularFile(damaged.resolve(MapDbStore.DB_FILE))) {
            throw new IllegalArgumentException(damaged + " holds no " + MapDbStore.DB_FILE);
        }
        Path copy = Files.createTempDirectory("nimbus-salvage-");
        try {
            copyTree(damaged, copy);
            Files.deleteIfExists(copy.resolve(DataDirLock.FILE));
            return salvageCopy(copy, target, keepIdentity, targetSettings);
        } finally {
            deleteTree(copy);
        }
    }

    private static Report salvageCopy(Path copy, Path target, boolean keepIdentity, StoreSettings targetSettings)
            throws IOException, InterruptedException {
        Map<String, KeyState> records = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        long unreadable = 0;
        boolean cut = false;
        long appliedSeq = 0;
        String host = null;
        Topology topology = null;
        DB db = null;
        try {
            db = MapDbFiles.maker(copy.resolve(MapDbStore.DB_FILE)).make();
        } catch (RuntimeException e) {
            cut = true;
            problems.add("the store file cannot be opened at all (" + e + "): only the log is replayed");
        }
        if (db != null) {
            DB open = db;
            try {
                HTreeMap<String, byte[]> kv = open.hashMap("kv", Serializer.STRING, Serializer.BYTE_ARRAY).createOrOpen();
                Iterator<String> keys = kv.keySet().iterator();
                while (true) {
                    String key;
                    try {
                        if (!keys.hasNext()) {
                            break;
                        }
                        key = keys.next();
                    } catch (RuntimeException e) {
                        cut = true; // a damaged index page: the keys behind it cannot be reached
                        problems.add("listing the keys stopped after " + (records.size() + unreadable) + ": " + e);
                        break;
                    }
                    try {
                        records.put(key, KeyStateCodec.decode(kv.get(key)));
                    } catch (RuntimeException e) {
                        unreadable++;
                        problems.add("key " + key + " cannot be read: " + e);
                    }
                }
                appliedSeq = readOr(problems, "the last checkpoint's log position (the whole log is replayed)",
                        () -> open.atomicLong("walAppliedSeq").createOrOpen().get(), 0L);
                host = readOr(problems, "the host id", () -> open.atomicString("hostId").createOrOpen().get(), null);
                byte[] held = readOr(problems, "the topology",
                        () -> open.atomicVar("topology", Serializer.BYTE_ARRAY).createOrOpen().get(), null);
                topology = held == null || held.length == 0 ? null
                        : readOr(problems, "the topology", () -> TopologyCodec.decode(held), null);
            } catch (RuntimeException e) {
                // e.g. the map's own header is damaged: what was read so far is all MapDB gives
                cut = true;
                problems.add("reading the store file stopped after " + (records.size() + unreadable) + " keys: " + e);
            } finally {
                try {
                    open.close();
                } catch (RuntimeException e) {
                    problems.add("closing the damaged copy failed: " + e);
                }
            }
        }
        long[] replayed = {0};
        long afterSeq = appliedSeq;
        WriteAheadLog log = WriteAheadLog.openAndReplay(copy, afterSeq, entry -> {
            records.put(entry.key(), KeyStateCodec.decode(entry.state()));
            replayed[0]++;
        });
        log.close();

        boolean keep = keepIdentity;
        if (keep) {
            if (host == null || host.isEmpty()) {
                throw new IllegalArgumentException("the damaged store's host id cannot be read: it cannot be kept");
            }
            if (topology != null && topology.rf() > 1) {
                throw new IllegalArgumentException("the store is a replica in a cluster with replication factor "
                        + topology.rf() + ": a replica that may have lost promises must not vote under its old "
                        + "identity. Salvage it without --keep-identity and let the cluster replace the old worker");
            }
        }
        HostId kept = keep ? HostId.parse(host) : null;
        StoreSettings settings = new StoreSettings(target, targetSettings.nodeId(), targetSettings.writeQueueMax(),
                targetSettings.writeBatchMax(), targetSettings.checkpointIntervalMs(), targetSettings.walSegmentBytesMax(),
                targetSettings.nowMicros(), targetSettings.gate(),
                keep ? kept::uuid : targetSettings.newHostId(), targetSettings.disk(), targetSettings.rowCacheBytesMax());
        try (MapDbStore fresh = MapDbStore.open(settings)) {
            List<CompletableFuture<Object>> pending = new ArrayList<>();
            for (Map.Entry<String, KeyState> e : records.entrySet()) {
                KeyState state = e.getValue();
                pending.add(fresh.update(e.getKey(), (current, freshBallot) -> new Acceptor.Transition<>(state, null)));
                if (pending.size() >= targetSettings.writeQueueMax() / 2) {
                    awaitAll(pending);
                }
            }
            awaitAll(pending);
            if (keep && topology != null) {
                fresh.install(topology).get(30, TimeUnit.SECONDS);
            }
            fresh.verify();
            return new Report(records.size(), unreadable, cut, List.copyOf(problems), replayed[0], fresh.hostId(), keep,
                    keep && topology != null ? topology.epoch() : null);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("writing the salvaged store failed: " + e, e);
        }
    }

    private static void awaitAll(List<CompletableFuture<Object>> pending) throws InterruptedException,
            java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
        for (CompletableFuture<Object> f : pending) {
            f.get(60, TimeUnit.SECONDS);
        }
        pending.clear();
    }

    private interface Read<T> {
        T get();
    }

    /** Reads one field of the damaged store; if it cannot be read, notes that in {@code problems}. */
    private static <T> T readOr(List<String> problems, String what, Read<T> read, T fallback) {
        try {
            return read.get();
        } catch (RuntimeException e) {
            problems.add(what + " cannot be read: " + e);
            return fallback;
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!file.getFileName().toString().equals(DiskReserve.FILE)) {
                    Files.copy(file, to.resolve(from.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void deleteTree(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
