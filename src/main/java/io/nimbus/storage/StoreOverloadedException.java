package io.nimbus.storage;

/** The write queue is full: the write was not queued and will not apply. Safe to retry later. */
public final class StoreOverloadedException extends RuntimeException {
    private final int queued;

    public StoreOverloadedException(int queued) {
        super("write queue is full (" + queued + " writes waiting)");
        this.queued = queued;
    }

    public int queued() {
        return queued;
    }
}
