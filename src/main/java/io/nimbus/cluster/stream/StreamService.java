package io.nimbus.cluster.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nimbus.cluster.membership.ClusterService;
import io.nimbus.cluster.topology.ClusterView;
import io.nimbus.cluster.topology.TopologyService;
import io.nimbus.cluster.peer.PeerGuards;
import io.nimbus.cluster.transport.ClusterTransport;
import io.nimbus.cluster.transport.MalformedMessageException;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.core.topology.StreamPlan;
import io.nimbus.core.topology.Topology;
import io.nimbus.core.topology.Worker;
import io.nimbus.node.NodeIdentity;
import io.nimbus.node.Storage;
import io.nimbus.storage.KeyStateCodec;
import io.nimbus.storage.MapDbStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Provider;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The streaming shell (TOPOLOGY.md §7): copies whole rows — committed value or tombstone, accepted
 * proposal, promise — to a topology operation's pending replicas, as {@link StreamPlan} says.
 *
 * <ul>
 *   <li><b>Source</b> ({@code PULL}): scans its store for the rows of the asked ranges, a chunk at a
 *       time, the smallest keys after a cursor first; stateless, so a chunk can be asked again.</li>
 *   <li><b>Receiver</b> ({@code RUN}): for each of its transfers, pulls every chunk from the sources
 *       the plan names (one chunk in flight per source: receiver-paced) and merges each row into its
 *       store with {@link KeyState#merge}, on the store's writer thread, durable before the next chunk
 *       is asked. A source that fails {@code chunk-attempts-max} times is replaced by the next
 *       candidate, then by the plan's next option. Merging is idempotent, so a copy interrupted by a
 *       crash is simply made again.</li>
 *   <li><b>Driver</b> ({@link #awaitReceivers}): asks each receiver to run its copy for the epoch and
 *       polls until every one reports it done.</li>
 * </ul>
 */
@ApplicationScoped
public class StreamService {
    private static final Logger LOG = Logger.getLogger(StreamService.class);
    static final int PULL = 52, RUN = 53;
    private static final long RETRY_PAUSE_MS = 500;
    private static final long POLL_MS = 500;

    private final NimbusConfig config;
    private final NodeIdentity identity;
    private final Storage storage;
    private final Vertx vertx;
    private final Provider<ClusterService> cluster;
    private final Provider<TopologyService> topology;
    private final Counter rowsReceived;
    private final Counter bytesReceived;
    private final Counter chunksServed;
    private final Counter syncs;
    private final Counter cleanupRemoved;
    private final io.nimbus.cluster.replica.ReplicaService replicas;
    private volatile long rowsKept = -1;
    private volatile long cleanedEpoch;
    private final java.util.concurrent.atomic.AtomicBoolean cleaning = new java.util.concurrent.atomic.AtomicBoolean();
    private final Counter syncsIncomplete;
    private final java.util.concurrent.atomic.AtomicBoolean syncing = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicBoolean syncScheduled = new java.util.concurrent.atomic.AtomicBoolean();
    /** This receiver's copies, by the epoch of the operation's START. */
    private final Map<Long, CompletableFuture<Void>> runs = new ConcurrentHashMap<>();

    public StreamService(NimbusConfig config, NodeIdentity identity, Storage storage, Vertx vertx,
                         Provider<ClusterService> cluster, Provider<TopologyService> topology, MeterRegistry registry,
                         io.nimbus.cluster.replica.ReplicaService replicas) {
        this.replicas = replicas;
        this.config = config;
        this.identity = identity;
        this.storage = storage;
        this.vertx = vertx;
        this.cluster = cluster;
        this.topology = topology;
        this.rowsReceived = Counter.builder("nimbus.stream.rows").description("rows streamed into this worker's store")
                .register(registry);
        this.bytesReceived = Counter.builder("nimbus.stream.bytes").description("bytes of rows streamed into this worker")
                .register(registry);
        this.chunksServed = Counter.builder("nimbus.stream.chunks.served")
                .description("chunks of rows this worker sent as a stream source").register(registry);
        this.cleanupRemoved = Counter.builder("nimbus.cleanup.rows.removed")
                .description("rows deleted because this worker no longer replicates their range").register(registry);
        io.micrometer.core.instrument.Gauge.builder("nimbus.cleanup.epoch", this, x -> x.cleanedEpoch)
                .description("the topology epoch of the last finished cleanup (0: none yet)").register(registry);
        io.micrometer.core.instrument.Gauge.builder("nimbus.cleanup.rows.kept", this, x -> x.rowsKept)
                .description("rows the last cleanup kept (this worker replicates them; -1: no cleanup yet)")
                .register(registry);
        this.syncs = Counter.builder("nimbus.sync.complete")
                .description("range syncs that copied from every other replica of every range").register(registry);
        this.syncsIncomplete = Counter.builder("nimbus.sync.incomplete")
                .description("range syncs where some replica could not be copied from").register(registry);
    }

    public static boolean isStream(int type) {
        return type == PULL || type == RUN;
    }

    public Future<ClusterTransport.Message> handle(ClusterTransport.Message request) {
        if (!storage.isWorker()) {
            throw new MalformedMessageException("a stream message to a proxy: proxies hold no rows");
        }
        if (request.type() == PULL) {
            return serve(StreamCodec.decodePull(request.body()));
        }
        Topology t = StreamCodec.decodeRun(request.body());
        return Future.fromCompletionStage(status(t).thenApply(s -> new ClusterTransport.Message(RUN, StreamCodec.encode(s))));
    }

    // ---- source -------------------------------------------------------------------------------------

    private Future<ClusterTransport.Message> serve(StreamCodec.Pull p) {
        MapDbStore store = storage.store();
        if (!store.hostId().equals(p.source())) {
            return Future.failedFuture(new IllegalStateException("this store is host " + store.hostId() + ", not "
                    + p.source() + ": it is not the source the pull names"));
        }
        int rows = Math.min(p.rowsMax(), config.stream().chunkRowsMax());
        long bytes = Math.min(p.bytesMax(), chunkBytesMax());
        Topology held = store.topology();
        if (held == null || held.epoch() < p.epoch()) {
            // a source behind the operation's epoch first learns it and passes its writer's fence point: from then
            // on it refuses older requests for the moving ranges, so nothing a stale coordinator writes at ONE can
            // land here after this scan read the key
            return Future.fromCompletionStage(topology.get().refresh(p.epoch()).thenCompose(x -> store.fencePoint())
                    .thenCompose(now -> {
                        if (now == null || now.epoch() < p.epoch()) {
                            return CompletableFuture.failedFuture(new IllegalStateException("this source holds epoch "
                                    + (now == null ? 0 : now.epoch()) + ", behind the stream's " + p.epoch()));
                        }
                        return scan(store, p, rows, bytes).toCompletionStage();
                    }));
        }
        return scan(store, p, rows, bytes);
    }

    private Future<ClusterTransport.Message> scan(MapDbStore store, StreamCodec.Pull p, int rows, long bytes) {
        return vertx.executeBlocking(() -> {
            MapDbStore.Page page = store.scan(key -> !key.startsWith("\u0000") && p.covers(token(key)), p.after(), rows, bytes);
            chunksServed.increment();
            return new ClusterTransport.Message(PULL, StreamCodec.encode(page));
        }, false);
    }

    private int chunkBytesMax() {
        return Math.max(1, Math.min(config.stream().chunkBytesMax(), config.cluster().frameBytesMax() / 2));
    }

    static long token(String key) {
        return Murmur3.hash64(key.getBytes(StandardCharsets.UTF_8));
    }

    // ---- receiver -----------------------------------------------------------------------------------

    /** The state of this receiver's copy for {@code t}'s operation, started if it is not running or failed. */
    CompletableFuture<StreamCodec.Status> status(Topology t) {
        return topology.get().learn(t).thenApply(held -> {
            if (held.epoch() != t.epoch()) {
                return new StreamCodec.Status(StreamCodec.State.FAILED, "this worker holds epoch " + held.epoch()
                        + ": the operation of epoch " + t.epoch() + " is over");
            }
            CompletableFuture<Void> run = runs.computeIfAbsent(t.epoch(), e -> copy(t));
            if (!run.isDone()) {
                return new StreamCodec.Status(StreamCodec.State.RUNNING, "copying");
            }
            if (run.isCompletedExceptionally()) {
                runs.remove(t.epoch(), run); // the next ask starts it again
                return new StreamCodec.Status(StreamCodec.State.FAILED, cause(run));
            }
            return new StreamCodec.Status(StreamCodec.State.DONE, "copied");
        });
    }

    private static String cause(CompletableFuture<?> f) {
        try {
            f.join();
            return "";
        } catch (CompletionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            return String.valueOf(c.getMessage());
        }
    }

    /** Makes every transfer of {@code t}'s plan to this worker, one after the other. */
    private CompletableFuture<Void> copy(Topology t) {
        List<StreamPlan.Transfer> mine = StreamPlan.of(t).to(identity.id());
        long start = System.nanoTime();
        double rowsBefore = rowsReceived.count();
        LOG.infof("stream for epoch %d (%s): %d transfer(s) to this worker", t.epoch(),
                t.operation().map(Object::toString).orElse("no operation"), mine.size());
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (StreamPlan.Transfer tr : mine) {
            chain = chain.thenCompose(x -> option(t, tr, 0, "no option tried"));
        }
        return chain.whenComplete((x, e) -> {
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            if (e == null) {
                LOG.infof("stream for epoch %d done: %.0f rows in %d ms", t.epoch(), rowsReceived.count() - rowsBefore, ms);
            } else {
                LOG.warnf("stream for epoch %d failed after %d ms (the driver asks again): %s", t.epoch(), ms,
                        e instanceof CompletionException && e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            }
        });
    }

    /** Tries the transfer's options in order: the first whose needed sources can all be copied completely wins. */
    private CompletableFuture<Void> option(Topology t, StreamPlan.Transfer tr, int i, String why) {
        if (i >= tr.options().size()) {
            return CompletableFuture.failedFuture(new IllegalStateException("no source option of the transfer of "
                    + tr.ranges().size() + " range(s) could be completed (" + tr.options() + "): " + why));
        }
        StreamPlan.Sources s = tr.options().get(i);
        ClusterView v = topology.get().view();
        List<String> candidates = new ArrayList<>();
        for (String name : s.from()) { // reachable ones first
            if (!v.down().contains(name)) {
                candidates.add(name);
            }
        }
        for (String name : s.from()) {
            if (!candidates.contains(name)) {
                candidates.add(name);
            }
        }
        return sources(t, tr, candidates, 0, s.needed(), "").handle((x, e) -> e).thenCompose(e -> {
            if (e == null) {
                return CompletableFuture.completedFuture(null);
            }
            String w = e instanceof CompletionException && e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
            LOG.infof("stream for epoch %d: option %s failed (%s); trying the next", t.epoch(), s, w);
            return option(t, tr, i + 1, w);
        });
    }

    /** Copies from candidates in order until {@code needed} of them were copied completely. */
    private CompletableFuture<Void> sources(Topology t, StreamPlan.Transfer tr, List<String> candidates, int next,
                                            int needed, String failures) {
        if (needed == 0) {
            return CompletableFuture.completedFuture(null);
        }
        if (candidates.size() - next < needed) {
            return CompletableFuture.failedFuture(new IllegalStateException("too few sources could be copied from"
                    + failures));
        }
        String source = candidates.get(next);
        return pull(t, tr, source, null, 0).handle((x, e) -> e).thenCompose(e -> e == null
                ? sources(t, tr, candidates, next + 1, needed - 1, failures)
                : sources(t, tr, candidates, next + 1, needed, failures + "; " + source + ": " + e.getMessage()));
    }

    /** Pulls every chunk after {@code after} from {@code source}, merging each before asking the next. */
    private CompletableFuture<Void> pull(Topology t, StreamPlan.Transfer tr, String source, String after, int attempt) {
        return pull(t, tr, source, after, attempt, false);
    }

    private CompletableFuture<Void> pull(Topology t, StreamPlan.Transfer tr, String source, String after, int attempt,
                                         boolean commitsOnly) {
        Worker w = t.worker(source).orElseThrow(() -> new IllegalStateException(source + " is not in epoch " + t.epoch()));
        ClusterView v = topology.get().view();
        StreamCodec.Pull p = new StreamCodec.Pull(t.epoch(), w.host(), tr.ranges(), after, config.stream().chunkRowsMax(),
                chunkBytesMax());
        CompletableFuture<MapDbStore.Page> chunk = cluster.get().peers()
                .request(PeerGuards.Kind.STREAM, v.addresses().getOrDefault(source, w.endpoint()),
                        new ClusterTransport.Message(PULL, StreamCodec.encode(p)), config.stream().chunkTimeoutMs())
                .thenApply(reply -> StreamCodec.decodeChunk(reply.body()));
        return chunk.thenCompose(page -> merge(page, commitsOnly)).handle((page, e) -> {
            if (e == null) {
                if (!page.more() || page.rows().isEmpty()) {
                    return CompletableFuture.<Void>completedFuture(null);
                }
                return pull(t, tr, source, page.rows().get(page.rows().size() - 1).key(), 0, commitsOnly);
            }
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (attempt + 1 >= config.stream().chunkAttemptsMax()) {
                return CompletableFuture.<Void>failedFuture(new IllegalStateException("chunk after "
                        + (after == null ? "the start" : "key " + after) + " failed " + (attempt + 1) + " time(s): "
                        + c.getMessage(), c));
            }
            CompletableFuture<Void> again = new CompletableFuture<>();
            vertx.setTimer(RETRY_PAUSE_MS, id -> pull(t, tr, source, after, attempt + 1, commitsOnly).whenComplete((x, e2) -> {
                if (e2 != null) {
                    again.completeExceptionally(e2);
                } else {
                    again.complete(null);
                }
            }));
            return again;
        }).thenCompose(f -> f);
    }

    /**
     * Merges a chunk's rows into the store (each on the writer thread, durable) and completes with the chunk:
     * whole rows ({@link KeyState#merge}) for a topology operation's stream; for a range sync, only the
     * committed values, learned as a Paxos commit learns them.
     */
    private CompletableFuture<MapDbStore.Page> merge(MapDbStore.Page page, boolean commitsOnly) {
        MapDbStore store = storage.store();
        List<CompletableFuture<Object>> merged = new ArrayList<>(page.rows().size());
        long bytes = 0;
        for (MapDbStore.Row row : page.rows()) {
            KeyState streamed;
            try {
                streamed = KeyStateCodec.decode(row.record());
            } catch (KeyStateCodec.CorruptRecordException e) {
                return CompletableFuture.failedFuture(new IllegalStateException("the source sent a damaged row for key "
                        + row.key() + ": " + e.getMessage(), e));
            }
            bytes += row.record().length;
            if (commitsOnly) {
                if (streamed.committed() != null) {
                    merged.add(store.update(row.key(), (current, fresh) ->
                            new Acceptor.Transition<>(Acceptor.commit(current, streamed.committed()), null)));
                }
            } else {
                merged.add(store.update(row.key(), (current, fresh) ->
                        new Acceptor.Transition<>(KeyState.merge(current, streamed), null)));
            }
        }
        long total = bytes;
        return CompletableFuture.allOf(merged.toArray(CompletableFuture[]::new)).thenApply(x -> {
            rowsReceived.increment(page.rows().size());
            bytesReceived.increment(total);
            return page;
        });
    }

    // ---- range sync ---------------------------------------------------------------------------------

    /**
     * Called when this worker is a member of the topology it holds: the first call schedules a range sync
     * {@code sync-after-start-ms} later and then every {@code sync-interval-ms}.
     */
    public void memberSince() {
        if (!storage.isWorker() || !syncScheduled.compareAndSet(false, true)) {
            return;
        }
        vertx.setTimer(Math.max(1, config.stream().syncAfterStartMs()), id -> sync());
        if (config.stream().syncIntervalMs() > 0) {
            vertx.setPeriodic(config.stream().syncIntervalMs(), id -> sync());
        }
    }

    /**
     * One range sync (StreamPlan#sync): for each of this worker's ranges, the committed values of every
     * other reachable replica, learned if newer. Best effort: a replica that cannot be copied from is
     * skipped and the run counts as incomplete. One run at a time.
     */
    public CompletableFuture<Boolean> sync() {
        Topology t = topology.get().current();
        if (t == null || !storage.isWorker() || !t.holds(new io.nimbus.core.topology.Replica(identity.id(),
                storage.store().hostId())) || !syncing.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(false);
        }
        long start = System.nanoTime();
        double rowsBefore = rowsReceived.count();
        List<String> failed = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (StreamPlan.Transfer tr : StreamPlan.sync(t, identity.id()).transfers()) {
            for (String source : tr.options().get(0).from()) {
                chain = chain.thenCompose(x -> {
                    if (topology.get().view().down().contains(source)) {
                        failed.add(source + " (down)");
                        return CompletableFuture.completedFuture(null);
                    }
                    return pull(t, tr, source, null, 0, true).handle((y, e) -> {
                        if (e != null) {
                            failed.add(source + ": " + e.getMessage());
                        }
                        return null;
                    });
                });
            }
        }
        return chain.handle((x, e) -> {
            syncing.set(false);
            boolean complete = failed.isEmpty() && e == null;
            (complete ? syncs : syncsIncomplete).increment();
            LOG.infof("range sync at epoch %d %s: %.0f rows compared in %d ms%s", t.epoch(),
                    complete ? "complete" : "incomplete", rowsReceived.count() - rowsBefore,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
                    complete ? "" : "; not copied from: " + failed + (e == null ? "" : "; " + e.getMessage()));
            return complete;
        });
    }

    // ---- cleanup ------------------------------------------------------------------------------------

    /**
     * Deletes the rows of ranges this worker no longer replicates (TOPOLOGY.md §8), once per epoch with no
     * operation in progress. Safe as soon as this store holds that epoch: every range it lost changed at
     * that epoch or before, so its fence refuses every request of an older epoch, and nobody of a newer one
     * routes the range here. Each deletion is decided on the writer thread against the topology held
     * then (a row of a range this worker has become natural or pending for again is kept). Whole rows go,
     * promises included. The topology register is never touched.
     */
    public void cleanupIfDue(Topology t) {
        if (!storage.isWorker() || t.operation().isPresent() || t.epoch() <= cleanedEpoch || !cleaning.compareAndSet(false, true)) {
            return;
        }
        MapDbStore store = storage.store();
        String me = identity.id();
        long start = System.nanoTime();
        long[] removed = {0};
        long[] kept = {0};
        cleanupPage(t, store, me, null, removed, kept).whenComplete((x, e) -> {
            cleaning.set(false);
            if (e != null) {
                LOG.warnf("cleanup at epoch %d stopped (retried at the next round): %s", t.epoch(), e.getMessage());
                return;
            }
            cleanedEpoch = t.epoch();
            cleanupRemoved.increment(removed[0]);
            rowsKept = kept[0];
            if (removed[0] > 0) {
                LOG.infof("cleanup at epoch %d: removed %d rows of ranges this worker no longer replicates, kept %d (%d ms)",
                        t.epoch(), removed[0], kept[0], TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
        });
    }

    private CompletableFuture<Void> cleanupPage(Topology t, MapDbStore store, String me, String after, long[] removed,
                                                long[] kept) {
        return vertx.executeBlocking(() -> store.scan(key -> !key.startsWith("\u0000"), after,
                config.stream().chunkRowsMax(), Long.MAX_VALUE), false).toCompletionStage().toCompletableFuture()
                .thenCompose(page -> {
                    List<CompletableFuture<Boolean>> gone = new ArrayList<>();
                    for (MapDbStore.Row row : page.rows()) {
                        long token = token(row.key());
                        if (t.placement(token).includes(me)) {
                            kept[0]++;
                            continue;
                        }
                        gone.add(store.update(row.key(), (current, fresh) -> {
                            Topology now = store.topology(); // decided against the topology held at this moment
                            boolean drop = now != null && now.mayDropRow(me, token, replicas.newestRequestEpoch());
                            return new Acceptor.Transition<>(drop ? KeyState.EMPTY : current, drop);
                        }));
                    }
                    return CompletableFuture.allOf(gone.toArray(CompletableFuture[]::new)).thenCompose(x -> {
                        for (CompletableFuture<Boolean> g : gone) {
                            if (g.join()) {
                                removed[0]++;
                            } else {
                                kept[0]++;
                            }
                        }
                        if (!page.more() || page.rows().isEmpty()) {
                            return CompletableFuture.completedFuture(null);
                        }
                        return cleanupPage(t, store, me, page.rows().get(page.rows().size() - 1).key(), removed, kept);
                    });
                });
    }

    // ---- driver -------------------------------------------------------------------------------------

    /**
     * Asks every receiver of {@code t}'s plan to make its copy and completes once all report it done;
     * fails if this node learns that the operation ended meanwhile.
     */
    public CompletableFuture<Void> awaitReceivers(Topology t) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (String receiver : StreamPlan.of(t).receivers()) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            poll(t, receiver, System.nanoTime(), 0, done);
            all.add(done);
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    private void poll(Topology t, String receiver, long start, long lastLog, CompletableFuture<Void> done) {
        if (topology.get().view().epoch() > t.epoch()) {
            done.completeExceptionally(new IllegalStateException("epoch " + t.epoch() + " was superseded by "
                    + topology.get().view().epoch() + " while " + receiver + " was copying"));
            return;
        }
        CompletableFuture<StreamCodec.Status> asked;
        if (receiver.equals(identity.id())) {
            asked = status(t);
        } else {
            Worker w = t.worker(receiver).orElseThrow();
            asked = cluster.get().peers().request(PeerGuards.Kind.STREAM,
                            topology.get().view().addresses().getOrDefault(receiver, w.endpoint()),
                            new ClusterTransport.Message(RUN, StreamCodec.encodeRun(t)), config.stream().chunkTimeoutMs())
                    .thenApply(reply -> StreamCodec.decodeStatus(reply.body()));
        }
        asked.whenComplete((s, e) -> {
            long now = System.nanoTime();
            if (s != null && s.state() == StreamCodec.State.DONE) {
                LOG.infof("stream for epoch %d: %s has its copy (%d ms)", t.epoch(), receiver,
                        TimeUnit.NANOSECONDS.toMillis(now - start));
                done.complete(null);
                return;
            }
            long logged = lastLog;
            if (s == null || s.state() == StreamCodec.State.FAILED || now - lastLog > TimeUnit.SECONDS.toNanos(10)) {
                LOG.infof("stream for epoch %d: %s %s", t.epoch(), receiver, s == null ? "did not answer: " + e.getMessage()
                        : s.state().name().toLowerCase() + (s.detail().isEmpty() ? "" : ": " + s.detail()));
                logged = now;
            }
            long l = logged;
            vertx.setTimer(s == null || s.state() == StreamCodec.State.FAILED ? 2 * POLL_MS : POLL_MS,
                    id -> poll(t, receiver, start, l, done));
        });
    }
}
