package io.nimbus.cluster.transport;

/**
 * A request that never left this node: its connection failed (refused, closed, or its handshake failed) before
 * the request was written to it, or the peer already had as many requests pending as allowed. Unlike a time-out
 * or a connection closed after the write, this says the peer cannot have acted on it.
 */
public final class RequestNotSentException extends IllegalStateException {
    public RequestNotSentException(String message, Throwable cause) {
        super(message, cause);
    }
}
