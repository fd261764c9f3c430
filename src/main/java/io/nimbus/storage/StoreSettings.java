package io.nimbus.storage;

import java.nio.file.Path;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What a store needs to open: where, who it is (ballots carry the node id), how much it may queue
 * and batch, how often MapDB is checkpointed, the wall clock in microseconds (ballots are
 * time-based; also paces checkpoints), the commit gate, and where a new store's host id comes from.
 */
public record StoreSettings(Path dataDir, String nodeId, int writeQueueMax, int writeBatchMax,
                            long checkpointIntervalMs, long walSegmentBytesMax,
                            LongSupplier nowMicros, CommitGate gate, Supplier<UUID> newHostId) {
    public StoreSettings {
        if (writeQueueMax < 1 || writeBatchMax < 1) {
            throw new IllegalArgumentException("write queue and batch limits must be >= 1");
        }
        if (checkpointIntervalMs < 1 || walSegmentBytesMax < 1) {
            throw new IllegalArgumentException("checkpoint interval and WAL segment size must be >= 1");
        }
        java.util.Objects.requireNonNull(newHostId, "newHostId");
    }
}
