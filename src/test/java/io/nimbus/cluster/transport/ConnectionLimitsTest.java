package io.nimbus.cluster.transport;

import org.junit.jupiter.api.Test;

import static io.nimbus.cluster.transport.ConnectionLimits.Admission.ADDRESS_FULL;
import static io.nimbus.cluster.transport.ConnectionLimits.Admission.ADMITTED;
import static io.nimbus.cluster.transport.ConnectionLimits.Admission.HANDSHAKES_FULL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConnectionLimitsTest {

    @Test
    void handshakesAtOnceAreBoundedAndFreedByAuthenticationOrClose() {
        ConnectionLimits l = new ConnectionLimits(2, 10);
        assertEquals(ADMITTED, l.admit("a"));
        assertEquals(ADMITTED, l.admit("b"));
        assertEquals(HANDSHAKES_FULL, l.admit("c"));
        l.authenticated();
        assertEquals(ADMITTED, l.admit("c"));
        assertEquals(HANDSHAKES_FULL, l.admit("d"));
        l.closed("b", true);
        assertEquals(ADMITTED, l.admit("d"));
        assertEquals(2, l.handshaking());
    }

    @Test
    void connectionsPerAddressCountAuthenticatedOnesToo() {
        ConnectionLimits l = new ConnectionLimits(10, 2);
        assertEquals(ADMITTED, l.admit("a"));
        l.authenticated();
        assertEquals(ADMITTED, l.admit("a"));
        assertEquals(ADDRESS_FULL, l.admit("a"));
        assertEquals(ADMITTED, l.admit("b"), "another address is not affected");
        l.closed("a", false);
        assertEquals(ADMITTED, l.admit("a"));
        assertEquals(2, l.open("a"));
    }

    @Test
    void closingWhatWasNeverAdmittedIsABrokenInvariant() {
        ConnectionLimits l = new ConnectionLimits(2, 2);
        assertThrows(IllegalStateException.class, () -> l.closed("a", false));
        assertThrows(IllegalStateException.class, l::authenticated);
        assertThrows(IllegalArgumentException.class, () -> new ConnectionLimits(0, 1));
    }
}
