package io.nimbus.cluster.transport;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up rule: no unauthenticated cluster port beyond loopback. */
class ClusterPortExposureTest {

    private static Optional<String> refusal(String host, boolean secret, boolean tls) throws Exception {
        return ClusterPortExposure.refusal(host, List.of(InetAddress.getAllByName(host)), secret, tls);
    }

    @Test
    void loopbackWithoutAuthenticationIsAllowed() throws Exception {
        for (String host : List.of("127.0.0.1", "127.77.5.2", "::1", "localhost")) {
            assertEquals(Optional.empty(), refusal(host, false, false), host);
        }
    }

    @Test
    void anyOtherAddressWithoutAuthenticationIsRefusedWithTheFix() throws Exception {
        for (String host : List.of("0.0.0.0", "::", "10.1.2.3", "192.168.0.7", "2001:db8::1")) {
            String why = refusal(host, false, false).orElseThrow(() -> new AssertionError(host + " was allowed"));
            assertTrue(why.contains("nimbus.cluster.secret") && why.contains("nimbus.cluster.tls.cert-file")
                    && why.contains("nimbus.cluster.bind-host=127.0.0.1") && why.contains(host), why);
        }
    }

    @Test
    void aSecretOrTlsMakesAnyAddressAllowed() throws Exception {
        for (String host : List.of("0.0.0.0", "10.1.2.3")) {
            assertEquals(Optional.empty(), refusal(host, true, false), host);
            assertEquals(Optional.empty(), refusal(host, false, true), host);
            assertEquals(Optional.empty(), refusal(host, true, true), host);
        }
    }

    @Test
    void aNameResolvingToOneNonLoopbackAddressIsRefused() throws Exception {
        List<InetAddress> mixed = List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("10.0.0.1"));
        assertTrue(ClusterPortExposure.refusal("node.example", mixed, false, false).isPresent());
        assertTrue(ClusterPortExposure.refusal("node.example", List.of(), false, false).isPresent());
    }

    @Test
    void checkThrowsWithTheReason() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ClusterPortExposure.check("0.0.0.0", false, false));
        assertTrue(e.getMessage().contains("not a loopback address"), e.getMessage());
        ClusterPortExposure.check("127.0.0.1", false, false);
        ClusterPortExposure.check("0.0.0.0", true, false);
    }

    @Test
    void tlsIsAllThreeFilesOrNone() {
        assertEquals(Optional.empty(), ClusterTls.of(Optional.empty(), Optional.empty(), Optional.empty()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClusterTls.of(Optional.of("c.pem"), Optional.empty(), Optional.of("ca.pem")));
        assertTrue(e.getMessage().contains("nimbus.cluster.tls.key-file"), e.getMessage());
        assertEquals(new ClusterTls("c", "k", "t"), ClusterTls.of(Optional.of("c"), Optional.of("k"), Optional.of("t")).orElseThrow());
    }
}
