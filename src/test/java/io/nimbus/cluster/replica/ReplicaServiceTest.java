package io.nimbus.cluster.replica;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.kv.WriteOutcome;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.node.Storage;
import io.nimbus.storage.CommitGate;
import io.nimbus.storage.DiskSpace;
import io.nimbus.storage.MapDbStore;
import io.nimbus.storage.StoreSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Commits nobody waits for are learned in order, and shed while the store's queue is half full. */
class ReplicaServiceTest {
    @TempDir
    Path dir;

    private final CountDownLatch release = new CountDownLatch(1);
    private final Semaphore held = new Semaphore(0);
    private volatile boolean hold;
    private MapDbStore store;

    @AfterEach
    void close() {
        release.countDown();
        if (store != null && store.isHealthy()) {
            store.close();
        }
    }

    @Test
    void commitsAreShedWhileTheStoreQueueIsHalfFullAndLearnedOtherwise() throws Exception {
        CommitGate gate = batch -> {
            if (hold) {
                held.release();
                assertTrue(release.await(10, TimeUnit.SECONDS));
            }
        };
        store = MapDbStore.open(new StoreSettings(dir, "n1", 4, 512, 3_600_000, 64 << 20,
                () -> TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()), gate, java.util.UUID::randomUUID,
                new StoreSettings.DiskLimits(0, 16 << 20, DiskSpace.of(dir))));
        Storage storage = new Storage() {
            public boolean isWorker() {
                return true;
            }

            public boolean isOpen() {
                return true;
            }

            public MapDbStore store() {
                return store;
            }
        };
        io.nimbus.core.topology.Topology t = io.nimbus.core.topology.Topology.bootstrap(java.util.UUID.randomUUID(), 1,
                new io.nimbus.core.topology.Worker("n1", store.hostId(), new io.nimbus.core.gossip.Endpoint("127.0.0.1", 9000),
                        8000, List.of(-5L, 7L)));
        store.install(t).get(10, TimeUnit.SECONDS); // this worker is every key's replica under epoch t.epoch()
        long epoch = t.epoch();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ReplicaService replicas = new ReplicaService(storage, registry);
        Ballot b = new Ballot(TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()), "peer");
        PaxosCodec.Addressed c1 = new PaxosCodec.Addressed(epoch, store.hostId(), new PaxosMessage.Commit("k1",
                new Proposal(b, "one".getBytes())));
        PaxosCodec.Addressed c2 = new PaxosCodec.Addressed(epoch, store.hostId(), new PaxosMessage.Commit("k2",
                new Proposal(b, "two".getBytes())));

        List<CompletableFuture<PaxosCodec.Answer>> learned = replicas.learn(List.of(c1, c2));
        assertNotNull(learned, "an idle store learns them");
        for (CompletableFuture<PaxosCodec.Answer> f : learned) {
            assertEquals(new PaxosMessage.Committed(), f.get(10, TimeUnit.SECONDS).reply());
        }
        assertEquals("one", new String(store.read("k1").committed().value()));
        assertEquals("two", new String(store.read("k2").committed().value()));

        hold = true; // the writer stops at its next batch; two more writes wait in its queue of 4: half full
        CompletableFuture<WriteOutcome> w1 = store.submit(new Mutation("w1", "x".getBytes(), Precondition.NONE));
        assertTrue(held.tryAcquire(10, TimeUnit.SECONDS));
        CompletableFuture<WriteOutcome> w2 = store.submit(new Mutation("w2", "x".getBytes(), Precondition.NONE));
        CompletableFuture<WriteOutcome> w3 = store.submit(new Mutation("w3", "x".getBytes(), Precondition.NONE));
        assertTrue(store.busy());
        PaxosCodec.Addressed c3 = new PaxosCodec.Addressed(epoch, store.hostId(), new PaxosMessage.Commit("k3",
                new Proposal(b, "three".getBytes())));
        assertNull(replicas.learn(List.of(c3)), "a busy store sheds them");
        assertEquals(1.0, registry.get("nimbus.paxos.commits.shed").counter().count());
        hold = false;
        release.countDown();
        w1.get(10, TimeUnit.SECONDS);
        w2.get(10, TimeUnit.SECONDS);
        w3.get(10, TimeUnit.SECONDS);
        assertFalse(store.busy());
        assertFalse(store.read("k3").exists(), "the shed commit was not written");
    }
}
