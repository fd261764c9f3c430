package io.nimbus.cluster.transport;

import java.util.HashMap;
import java.util.Map;

/**
 * Admission of accepted connections: at most {@code handshakesMax} still in their handshake at once, and
 * at most {@code perAddressMax} open from one remote address. Not thread-safe: the transport calls it
 * from its one context.
 */
final class ConnectionLimits {
    enum Admission { ADMITTED, HANDSHAKES_FULL, ADDRESS_FULL }

    private final int handshakesMax;
    private final int perAddressMax;
    private final Map<String, Integer> perAddress = new HashMap<>();
    private int handshaking;

    ConnectionLimits(int handshakesMax, int perAddressMax) {
        if (handshakesMax < 1 || perAddressMax < 1) {
            throw new IllegalArgumentException("connection limits must be at least 1 (handshakes-max " + handshakesMax
                    + ", connections-per-address-max " + perAddressMax + ")");
        }
        this.handshakesMax = handshakesMax;
        this.perAddressMax = perAddressMax;
    }

    /** A new connection from {@code address}; if admitted it counts as handshaking until {@link #authenticated}. */
    Admission admit(String address) {
        if (handshaking >= handshakesMax) {
            return Admission.HANDSHAKES_FULL;
        }
        int open = perAddress.getOrDefault(address, 0);
        if (open >= perAddressMax) {
            return Admission.ADDRESS_FULL;
        }
        perAddress.put(address, open + 1);
        handshaking++;
        return Admission.ADMITTED;
    }

    /** An admitted connection completed its handshake. */
    void authenticated() {
        if (handshaking <= 0) {
            throw new IllegalStateException("authenticated a connection that was not handshaking");
        }
        handshaking--;
    }

    /** An admitted connection closed; {@code handshaking}: before it completed its handshake. */
    void closed(String address, boolean wasHandshaking) {
        Integer open = perAddress.get(address);
        if (open == null || (wasHandshaking && handshaking <= 0)) {
            throw new IllegalStateException("closed a connection from " + address + " that was never admitted");
        }
        if (open == 1) {
            perAddress.remove(address);
        } else {
            perAddress.put(address, open - 1);
        }
        if (wasHandshaking) {
            handshaking--;
        }
    }

    int handshaking() {
        return handshaking;
    }

    int open(String address) {
        return perAddress.getOrDefault(address, 0);
    }
}
