package io.nimbus.api;

import io.nimbus.storage.CommitGate;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;

/** A commit gate that, once armed, makes the next commit fail as a broken disk would. */
@Alternative
@Singleton
public class FailingCommitGate implements CommitGate {
    private volatile boolean armed;

    public void arm() {
        armed = true;
    }

    @Override
    public void beforeCommit(int batchSize) {
        if (armed) {
            throw new IllegalStateException("simulated disk failure");
        }
    }
}
