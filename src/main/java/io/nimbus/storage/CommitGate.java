package io.nimbus.storage;

/**
 * Runs just before each group commit, on the writer thread. Production uses {@link #NONE}; tests
 * use it to hold a commit open and observe queueing, time-outs and crash points.
 */
@FunctionalInterface
public interface CommitGate {
    CommitGate NONE = batchSize -> {
    };

    void beforeCommit(int batchSize) throws InterruptedException;
}
