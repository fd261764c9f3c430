package io.nimbus.cluster.replica;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.ring.Murmur3;
import io.nimbus.core.topology.Fence;
import io.nimbus.core.topology.FencedAcceptor;
import io.nimbus.core.topology.Topology;
import io.nimbus.node.Storage;
import io.nimbus.storage.MapDbStore;
import jakarta.enterprise.context.ApplicationScoped;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

/**
 * The acceptor side of Paxos on a worker: each request becomes a durable per-key update in the store,
 * decided on the store's writer thread by {@link FencedAcceptor} against the topology the store holds
 * at that moment (so learning an epoch and deciding a transition are totally ordered), and the reply
 * is released only after the new registers are on disk. A read of the registers (a read at ONE, and
 * the first round of a read at QUORUM/ALL) changes nothing and is decided on the calling thread. A request newer than this node's topology is served and reported to
 * {@link #onBehind} so the newer topology gets fetched.
 */
@ApplicationScoped
public class ReplicaService {
    /** The key of the topology register; never reachable through the KV API (keys may not start with U+0000). */
    public static final String REGISTER_KEY = "\u0000topology";

    private final Storage storage;
    private final Counter fenced;
    private final Counter shed;
    private volatile LongConsumer onBehind = epoch -> {
    };
    /** The newest epoch any Paxos request to this replica carried (a request newer than the topology held is served). */
    private final java.util.concurrent.atomic.AtomicLong newestRequestEpoch = new java.util.concurrent.atomic.AtomicLong();

    public ReplicaService(Storage storage, MeterRegistry registry) {
        this.storage = storage;
        this.fenced = Counter.builder("nimbus.fence.refusals")
                .description("Paxos requests this replica refused by its fence (stale epoch or not this host)")
                .register(registry);
        this.shed = Counter.builder("nimbus.paxos.commits.shed")
                .description("commits nobody waited for that this replica dropped because its store's write queue "
                        + "was at least half full").register(registry);
    }

    /**
     * The newest epoch a request to this replica carried since it started. Recorded before the request's
     * update is queued, so a decision on the writer thread that reads it sees every request queued before.
     * A cleanup deletes nothing while it is newer than the topology held: this replica may already be a
     * pending replica of a range it does not know it has.
     */
    public long newestRequestEpoch() {
        return newestRequestEpoch.get();
    }

    /** Who to tell when a request carried a newer epoch than this node holds. */
    public void onBehind(LongConsumer listener) {
        this.onBehind = listener;
    }

    public CompletableFuture<PaxosCodec.Answer> handle(PaxosCodec.Addressed a) {
        if (!storage.isWorker()) {
            return CompletableFuture.failedFuture(new IllegalStateException("this node is a proxy: it holds no replicas"));
        }
        MapDbStore store = storage.store();
        newestRequestEpoch.accumulateAndGet(a.epoch(), Math::max); // before the update is queued: see newestRequestEpoch()
        PaxosMessage.Request request = a.request();
        String key = request.key();
        long token = key.equals(REGISTER_KEY) ? 0 : Murmur3.hash64(key.getBytes(StandardCharsets.UTF_8));
        boolean register = key.equals(REGISTER_KEY);
        if (request instanceof PaxosMessage.ReadCommitted) {
            // Off the writer thread: it changes nothing. The registers are read first (durable ones only), the
            // topology after: a fence check that passes then is taken under a topology at least as new as any
            // that had been installed when the registers were read — so registers a cleanup deleted under a newer
            // topology are never reported as this replica's to a request that topology fences. (The other order
            // could pass the fence under the older topology and then read the rows as deleted.)
            io.nimbus.core.kv.KeyState registers = store.read(key);
            Topology mine = store.topology();
            FencedAcceptor.Decision d = FencedAcceptor.decide(mine, store.hostId(), changedAt(mine, token, register),
                    a.epoch(), a.target(), request, registers);
            return CompletableFuture.completedFuture(answer(store, d, a.epoch()));
        }
        return store.update(key, (current, fresh) -> {
            Topology mine = store.topology(); // on the writer thread: the topology in force for this decision
            FencedAcceptor.Decision d = FencedAcceptor.decide(mine, store.hostId(), changedAt(mine, token, register),
                    a.epoch(), a.target(), request, current);
            return new io.nimbus.core.paxos.Acceptor.Transition<>(d.transition().next(), d);
        }).thenApply(d -> answer(store, d, a.epoch()));
    }

    /**
     * Commits a coordinator sent without waiting for them (bundled ahead of a request, or on their own), each
     * handled as {@link #handle} in order; or, while the store's write queue is at least half full, dropped:
     * a lost commit is a lost message, which Paxos tolerates (the next prepare finishes the value), whereas
     * thousands of them filling the queue would refuse the requests someone waits for. Null: shed.
     */
    public List<CompletableFuture<PaxosCodec.Answer>> learn(List<PaxosCodec.Addressed> commits) {
        if (storage.isWorker() && storage.store().busy()) {
            shed.increment(commits.size());
            return null;
        }
        List<CompletableFuture<PaxosCodec.Answer>> out = new ArrayList<>(commits.size());
        for (PaxosCodec.Addressed c : commits) {
            out.add(handle(c));
        }
        return out;
    }

    private PaxosCodec.Answer answer(MapDbStore store, FencedAcceptor.Decision d, long requestEpoch) {
        if (d.verdict() == Fence.Verdict.STALE || d.verdict() == Fence.Verdict.NOT_ME) {
            fenced.increment();
        }
        Topology held = store.topology();
        long epoch = held == null ? 0 : held.epoch();
        if (d.verdict() == Fence.Verdict.BEHIND) {
            onBehind.accept(requestEpoch);
        }
        return new PaxosCodec.Answer(epoch, store.hostId(), d.transition().reply());
    }

    private static long changedAt(Topology mine, long token, boolean register) {
        if (mine == null) {
            return Long.MAX_VALUE;
        }
        return register ? mine.electorateChangedAt() : mine.changedAt(token);
    }
}
