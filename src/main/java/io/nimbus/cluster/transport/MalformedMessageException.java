package io.nimbus.cluster.transport;

/** Bytes from a peer that are not a valid frame or message: the connection is closed. */
public class MalformedMessageException extends RuntimeException {
    public MalformedMessageException(String message) {
        super(message);
    }

    public MalformedMessageException(String message, Throwable cause) {
        super(message, cause);
    }
}
