package io.nimbus.node;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.nimbus.config.NimbusConfig;
import io.nimbus.core.gossip.NodeRole;
import io.nimbus.storage.CommitGate;
import io.nimbus.storage.DiskSpace;
import io.nimbus.storage.MapDbStore;
import io.nimbus.storage.StoreOpenException;
import io.nimbus.storage.StoreSettings;
import io.quarkus.arc.properties.UnlessBuildProperty;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The worker's store as a bean: opened at start-up (so a locked or damaged data directory stops the
 * process before it serves anything), closed at shutdown after the queued writes commit. In every build
 * but a proxy build ({@link BuildRole}); a node of such a build that runs as a proxy opens nothing.
 */
@ApplicationScoped
@UnlessBuildProperty(name = BuildRole.PROPERTY, stringValue = "proxy", enableIfMissing = true)
public class WorkerStorage implements Storage {
    private static final Logger LOG = Logger.getLogger(WorkerStorage.class);

    private final NimbusConfig config;
    private final NodeIdentity identity;
    private final MeterRegistry registry;
    private final Instance<CommitGate> gate;
    private volatile MapDbStore store;

    public WorkerStorage(NimbusConfig config, NodeIdentity identity, MeterRegistry registry, Instance<CommitGate> gate) {
        this.config = config;
        this.identity = identity;
        this.registry = registry;
        this.gate = gate;
    }

    void onStart(@Observes @jakarta.annotation.Priority(100) StartupEvent event) {
        if (config.role() != NodeRole.WORKER) {
            LOG.infof("node %s is a proxy: it opens no data files", identity.id());
            return;
        }
        Path dir = Path.of(config.dataDir());
        StoreSettings settings = new StoreSettings(dir, identity.id(), config.limits().writeQueueMax(),
                config.limits().writeBatchMax(), config.storage().checkpointIntervalMs(),
                config.storage().walSegmentBytesMax(), () -> TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()),
                gate.isResolvable() ? gate.get() : CommitGate.NONE, java.util.UUID::randomUUID,
                new StoreSettings.DiskLimits(config.storage().diskFreeBytesMin(), config.storage().diskReserveBytes(),
                        DiskSpace.of(dir)), config.storage().rowCacheBytesMax());
        try {
            store = MapDbStore.open(settings);
        } catch (StoreOpenException e) {
            LOG.error("Nimbus cannot start: " + e.getMessage());
            throw e;
        }
        MapDbStore s = store;
        FunctionCounter.builder("nimbus.store.group.commits", s, x -> x.stats().groupCommits())
                .description("group commits: one write-ahead log append and one fdatasync each").register(registry);
        FunctionCounter.builder("nimbus.store.group.commit.seconds", s, x -> x.stats().groupCommitNanos() / 1e9)
                .description("time spent appending and syncing the write-ahead log").register(registry);
        FunctionCounter.builder("nimbus.store.mutations", s, x -> x.stats().mutations())
                .description("writes and deletes decided (applied or refused by their precondition)").register(registry);
        FunctionCounter.builder("nimbus.store.checkpoints", s, x -> x.stats().checkpoints())
                .description("MapDB commits that truncate the write-ahead log").register(registry);
        FunctionCounter.builder("nimbus.store.checkpoint.seconds", s, x -> x.stats().checkpointNanos() / 1e9)
                .description("time spent in checkpoints").register(registry);
        FunctionCounter.builder("nimbus.store.rejected.overload", s, x -> x.stats().rejectedOverload())
                .description("writes refused because the write queue was full").register(registry);
        FunctionCounter.builder("nimbus.store.rejected.disk.full", s, x -> x.stats().rejectedDiskFull())
                .description("writes refused because the disk was (nearly) full").register(registry);
        FunctionCounter.builder("nimbus.store.checkpoints.deferred", s, x -> x.stats().checkpointsDeferred())
                .description("checkpoints put off for lack of disk space, even after releasing the reserve")
                .register(registry);
        Timer commits = Timer.builder("nimbus.store.group.commit.duration")
                .description("one group commit: the write-ahead log append and its fdatasync").register(registry);
        s.stats().observeGroupCommits(nanos -> commits.record(nanos, TimeUnit.NANOSECONDS));
        Gauge.builder("nimbus.store.disk.full", s, x -> x.diskFull() == null ? 0 : 1)
                .description("1 while writes are refused for lack of disk space").register(registry);
        Gauge.builder("nimbus.store.queue", s, MapDbStore::queued)
                .description("writes waiting for the group commit").register(registry);
        LOG.infof("node %s: store open at %s", identity.id(), dir.toAbsolutePath());
    }

    void onStop(@Observes @jakarta.annotation.Priority(200) ShutdownEvent event) {
        MapDbStore s = store;
        if (s != null) {
            s.close();
            LOG.infof("store closed at %s", config.dataDir());
        }
    }

    @Override
    public MapDbStore store() {
        MapDbStore s = store;
        if (s == null) {
            throw new IllegalStateException("store is not open");
        }
        return s;
    }

    @Override
    public boolean isOpen() {
        return store != null;
    }

    @Override
    public boolean isWorker() {
        return config.role() == NodeRole.WORKER;
    }
}
