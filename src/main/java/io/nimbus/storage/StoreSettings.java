package io.nimbus.storage;

import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * What a store needs to open: where, who it is (ballots carry the node id), how much it may queue
 * and batch, how often MapDB is checkpointed, the wall clock in microseconds (ballots are
 * time-based; also paces checkpoints), and the commit gate.
 */
public record StoreSettings(Path dataDir, String nodeId, int writeQueueMax, int writeBatchMax,
                            long checkpointIntervalMs, long walSegmentBytesMax,
                            LongSupplier nowMicros, CommitGate gate) {
    public StoreSettings {
        if (writeQueueMax < 1 || writeBatchMax < 1) {
            throw new IllegalArgumentException("write queue and batch limits must be >= 1");
        }
        if (checkpointIntervalMs < 1 || walSegmentBytesMax < 1) {
            throw new IllegalArgumentException("checkpoint interval and WAL segment size must be >= 1");
        }
    }
}
