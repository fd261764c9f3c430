package io.nimbus.node;

/**
 * A request could not reach its consistency level and it is known that nothing of it was written:
 * 503 when too few replicas answered, 504 when it ran out of time or retries. Safe to retry.
 */
public final class NotAppliedException extends RuntimeException {
    private final int status;

    public NotAppliedException(int status, String detail) {
        super(detail, null, false, false);
        if (status != 503 && status != 504) {
            throw new IllegalArgumentException("status " + status);
        }
        this.status = status;
    }

    public int status() {
        return status;
    }
}
