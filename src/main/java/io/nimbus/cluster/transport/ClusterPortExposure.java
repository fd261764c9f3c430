package io.nimbus.cluster.transport;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The start-up rule for the cluster port: it never listens beyond loopback without peer authentication.
 * Gossip and Paxos messages change topology and data, so an unauthenticated port reachable from the
 * network lets anyone who reaches it forge them. Loopback without authentication stays allowed (a
 * development run, tests on 127.x addresses).
 */
public final class ClusterPortExposure {
    private ClusterPortExposure() {
    }

    /**
     * Why a cluster port bound to {@code bindHost} (resolved to {@code addresses}) must not start, or empty if
     * it may: it may when peers are authenticated (secret or TLS) or when every address is a loopback address
     * (127.0.0.0/8, ::1; the wildcard 0.0.0.0 / :: is not one).
     */
    public static Optional<String> refusal(String bindHost, List<InetAddress> addresses, boolean secret, boolean tls) {
        if (secret || tls) {
            return Optional.empty();
        }
        boolean loopback = !addresses.isEmpty() && addresses.stream().allMatch(InetAddress::isLoopbackAddress);
        if (loopback) {
            return Optional.empty();
        }
        return Optional.of("the cluster port would listen on " + bindHost + " " + addresses.stream()
                .map(InetAddress::getHostAddress).toList() + ", which is not a loopback address, without peer "
                + "authentication: anyone who reaches it could forge gossip, topology and Paxos messages. Turn on "
                + "mutual TLS (nimbus.cluster.tls.cert-file, nimbus.cluster.tls.key-file, nimbus.cluster.tls.trust-file;"
                + " recommended) and/or set nimbus.cluster.secret on every node, or bind the cluster port to loopback"
                + " (nimbus.cluster.bind-host=127.0.0.1)");
    }

    /** {@link #refusal} for {@code bindHost} as the resolver sees it now; throws {@link IllegalStateException} if refused. */
    public static void check(String bindHost, boolean secret, boolean tls) {
        List<InetAddress> addresses;
        try {
            addresses = Arrays.asList(InetAddress.getAllByName(bindHost));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("the cluster bind address " + bindHost + " does not resolve: " + e.getMessage(), e);
        }
        refusal(bindHost, addresses, secret, tls).ifPresent(why -> {
            throw new IllegalStateException(why);
        });
    }
}
