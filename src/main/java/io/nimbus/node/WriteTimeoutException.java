package io.nimbus.node;

/** A write was started but not confirmed at its level (in time): its outcome is unknown. */
public final class WriteTimeoutException extends RuntimeException {
    private final long waitedMs;

    public WriteTimeoutException(long waitedMs) {
        super("the write was not confirmed durable within " + waitedMs + " ms", null, false, false);
        this.waitedMs = waitedMs;
    }

    /** A write whose value may have been accepted by some replica, but not confirmed by its level: {@code why} says what happened. */
    public WriteTimeoutException(String why) {
        super(why, null, false, false);
        this.waitedMs = -1;
    }

    public long waitedMs() {
        return waitedMs;
    }
}
