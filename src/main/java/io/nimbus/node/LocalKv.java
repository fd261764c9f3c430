package io.nimbus.node;

import io.nimbus.config.NimbusConfig;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.WriteOutcome;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads and writes on a worker that is alone: the replication factor is capped at one worker, so
 * every consistency level needs exactly this node, and a write is acknowledged once it is durable
 * here. The replicated coordinator (step 3) takes this class's place behind the same API.
 */
@ApplicationScoped
public class LocalKv {
    private final Storage storage;
    private final NimbusConfig config;

    public LocalKv(Storage storage, NimbusConfig config) {
        this.storage = storage;
        this.config = config;
    }

    /** Replicas per key right now: the configured factor, capped at the workers there are (one). */
    public int effectiveReplicationFactor() {
        return Math.min(config.replicationFactor(), 1);
    }

    public ConsistencyLevel defaultLevel() {
        return config.consistency();
    }

    public KeyState read(String key, ConsistencyLevel level) {
        requireReplicas(level);
        return storage.store().read(key);
    }

    /** Completes with the durable outcome, or fails with {@link WriteTimeoutException} (outcome unknown). */
    public CompletionStage<WriteOutcome> write(Mutation mutation, ConsistencyLevel level) {
        requireReplicas(level);
        long timeoutMs = config.limits().writeTimeoutMs();
        CompletableFuture<WriteOutcome> durable = storage.store().submit(mutation);
        return durable.copy().orTimeout(timeoutMs, TimeUnit.MILLISECONDS).exceptionally(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof TimeoutException) {
                throw new WriteTimeoutException(timeoutMs);
            }
            throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
        });
    }

    private void requireReplicas(ConsistencyLevel level) {
        int needed = level.required(effectiveReplicationFactor());
        if (!storage.isWorker()) {
            throw new NotEnoughReplicasException(level, needed, 0,
                    "this node is a proxy, and routing requests to workers arrives with replication (step 3)");
        }
    }
}
