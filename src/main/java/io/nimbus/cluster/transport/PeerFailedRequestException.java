package io.nimbus.cluster.transport;

/**
 * The peer answered a request with a failure frame: it is up and talking, but its handler failed (its
 * store refused, its writer failed, it could not decode the request). Unlike no answer, a closed
 * connection or a refused connect, this says nothing against the peer's reachability.
 */
public final class PeerFailedRequestException extends IllegalStateException {
    public PeerFailedRequestException(String message) {
        super(message);
    }
}
