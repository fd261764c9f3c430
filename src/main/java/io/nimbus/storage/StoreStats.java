package io.nimbus.storage;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/** Counters the store keeps; the shell exposes them as metrics. */
public final class StoreStats {
    final AtomicLong groupCommits = new AtomicLong();
    final AtomicLong mutations = new AtomicLong();
    final AtomicLong groupCommitNanos = new AtomicLong();
    final AtomicLong checkpoints = new AtomicLong();
    final AtomicLong checkpointNanos = new AtomicLong();
    final AtomicLong rejectedOverload = new AtomicLong();
    final AtomicLong rejectedDiskFull = new AtomicLong();
    final AtomicLong checkpointsDeferred = new AtomicLong();
    /** Told each group commit's duration (log append + fdatasync) in nanoseconds, on the writer thread. */
    private volatile LongConsumer groupCommitObserver = nanos -> {
    };

    /** Tells {@code observer} each group commit's duration in nanoseconds (e.g. into a latency histogram). */
    public void observeGroupCommits(LongConsumer observer) {
        groupCommitObserver = Objects.requireNonNull(observer, "observer");
    }

    void groupCommitted(long nanos) {
        groupCommitNanos.addAndGet(nanos);
        groupCommits.incrementAndGet();
        groupCommitObserver.accept(nanos);
    }

    /** Group commits: one log append and one fdatasync each. */
    public long groupCommits() {
        return groupCommits.get();
    }

    /** Mutations processed (applied or refused by their precondition). */
    public long mutations() {
        return mutations.get();
    }

    public long groupCommitNanos() {
        return groupCommitNanos.get();
    }

    /** MapDB commits that let the write-ahead log be truncated. */
    public long checkpoints() {
        return checkpoints.get();
    }

    public long checkpointNanos() {
        return checkpointNanos.get();
    }

    public long rejectedOverload() {
        return rejectedOverload.get();
    }

    /** Writes refused because the disk was (nearly) full. */
    public long rejectedDiskFull() {
        return rejectedDiskFull.get();
    }

    /** Checkpoints put off because the disk had no room for them, even after releasing the reserve. */
    public long checkpointsDeferred() {
        return checkpointsDeferred.get();
    }
}
