package io.nimbus.storage;

import java.nio.file.Path;
import java.util.UUID;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What a store needs to open: where, who it is (ballots carry the node id), how much it may queue
 * and batch, how often MapDB is checkpointed, the wall clock in microseconds (ballots are
 * time-based; also paces checkpoints), the commit gate, where a new store's host id comes from, its
 * limits on disk space, and about how many bytes of decoded rows it keeps in memory beyond those not
 * checkpointed yet.
 */
public record StoreSettings(Path dataDir, String nodeId, int writeQueueMax, int writeBatchMax,
                            long checkpointIntervalMs, long walSegmentBytesMax,
                            LongSupplier nowMicros, CommitGate gate, Supplier<UUID> newHostId, DiskLimits disk,
                            long rowCacheBytesMax) {
    /** The default of {@code nimbus.storage.row-cache-bytes-max}. */
    public static final long ROW_CACHE_BYTES_DEFAULT = 32L << 20;

    /** Settings with the default row cache. */
    public StoreSettings(Path dataDir, String nodeId, int writeQueueMax, int writeBatchMax, long checkpointIntervalMs,
                         long walSegmentBytesMax, LongSupplier nowMicros, CommitGate gate, Supplier<UUID> newHostId,
                         DiskLimits disk) {
        this(dataDir, nodeId, writeQueueMax, writeBatchMax, checkpointIntervalMs, walSegmentBytesMax, nowMicros, gate,
                newHostId, disk, ROW_CACHE_BYTES_DEFAULT);
    }

    /**
     * How the store keeps a full disk from hurting it: it refuses writes when fewer than {@code freeBytesMin}
     * bytes would be left, and holds a file of {@code reserveBytes} that it deletes to make room for a
     * checkpoint when the disk is full (and writes nothing while it is missing). {@code space} measures.
     */
    public record DiskLimits(long freeBytesMin, long reserveBytes, DiskSpace space) {
        public DiskLimits {
            if (freeBytesMin < 0) {
                throw new IllegalArgumentException("disk free bytes minimum must be >= 0");
            }
            if (reserveBytes < 2 * DiskSpace.COMMIT_OVERHEAD_BYTES) {
                throw new IllegalArgumentException("disk reserve must be at least " + 2 * DiskSpace.COMMIT_OVERHEAD_BYTES
                        + " bytes (a checkpoint's fixed overhead twice over); got " + reserveBytes);
            }
            java.util.Objects.requireNonNull(space, "space");
        }
    }

    public StoreSettings {
        if (writeQueueMax < 1 || writeBatchMax < 1) {
            throw new IllegalArgumentException("write queue and batch limits must be >= 1");
        }
        if (checkpointIntervalMs < 1 || walSegmentBytesMax < 1) {
            throw new IllegalArgumentException("checkpoint interval and WAL segment size must be >= 1");
        }
        if (rowCacheBytesMax < 0) {
            throw new IllegalArgumentException("row cache bytes max must be >= 0");
        }
        java.util.Objects.requireNonNull(newHostId, "newHostId");
        java.util.Objects.requireNonNull(disk, "disk");
    }
}
