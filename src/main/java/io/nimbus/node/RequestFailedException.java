package io.nimbus.node;

import io.nimbus.core.coordinator.Result;

/**
 * A request ended without a client-level answer (refused, unavailable, timed out, or with an unknown
 * outcome). It carries the {@link Result}; the API alone turns it into an HTTP status and problem.
 */
public final class RequestFailedException extends RuntimeException {
    private final Result result;

    public RequestFailedException(Result result) {
        super(String.valueOf(result), null, false, false);
        this.result = result;
    }

    public Result result() {
        return result;
    }
}
