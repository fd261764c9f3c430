package io.nimbus.api;

import io.nimbus.storage.CommitGate;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Singleton;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** A commit gate a test can close: while closed, the group-commit writer waits before making a batch durable. */
@Alternative
@Singleton
public class HeldCommitGate implements CommitGate {
    private volatile CountDownLatch open = new CountDownLatch(0);
    private final Semaphore waiting = new Semaphore(0);

    public void close() {
        open = new CountDownLatch(1);
    }

    public void open() {
        open.countDown();
    }

    /** Waits until the writer is held at the gate. */
    public boolean awaitWriterHeld(long ms) throws InterruptedException {
        return waiting.tryAcquire(ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public void beforeCommit(int batchSize) throws InterruptedException {
        CountDownLatch latch = open;
        if (latch.getCount() > 0) {
            waiting.release();
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("test left the commit gate closed for 30 s");
            }
        }
    }
}
