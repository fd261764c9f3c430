package io.nimbus.node;

/** A write was queued but not confirmed durable in time: its outcome is unknown. */
public final class WriteTimeoutException extends RuntimeException {
    private final long waitedMs;

    public WriteTimeoutException(long waitedMs) {
        super("the write was not confirmed durable within " + waitedMs + " ms", null, false, false);
        this.waitedMs = waitedMs;
    }

    public long waitedMs() {
        return waitedMs;
    }
}
