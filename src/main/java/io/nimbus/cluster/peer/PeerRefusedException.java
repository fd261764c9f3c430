package io.nimbus.cluster.peer;

import io.nimbus.core.gossip.Endpoint;

/**
 * A call to a peer that was never sent: its guard refused it at once. Nothing reached the peer, so a
 * request that gets this has written nothing there.
 */
public final class PeerRefusedException extends RuntimeException {
    /** Why the guard refused. */
    public enum Reason {
        /** The peer's circuit breaker is open: recent calls to it failed. */
        BREAKER_OPEN,
        /** The peer's bulkhead is full: this node already has as many calls in flight and waiting to it as it allows. */
        BULKHEAD_FULL
    }

    private final Endpoint peer;
    private final Reason reason;

    public PeerRefusedException(Endpoint peer, Reason reason, String message) {
        super(message, null, false, false);
        this.peer = peer;
        this.reason = reason;
    }

    public Endpoint peer() {
        return peer;
    }

    public Reason reason() {
        return reason;
    }
}
