package io.nimbus.cluster.transport;

import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Mutual TLS on the cluster port: this node's certificate and key, and the CA bundle every peer's
 * certificate must chain to, in both directions (the accepting side requires a client certificate; the
 * connecting side verifies the server's). Peers are not checked by host name: holding a certificate the
 * cluster CA signed is what makes a peer a member, so use a CA of the cluster's own.
 */
public record ClusterTls(String certFile, String keyFile, String trustFile) {

    /** From the three {@code nimbus.cluster.tls.*} settings: all three or none (empty); otherwise says which is missing. */
    public static Optional<ClusterTls> of(Optional<String> certFile, Optional<String> keyFile, Optional<String> trustFile) {
        List<String> missing = new ArrayList<>();
        if (certFile.isEmpty()) {
            missing.add("nimbus.cluster.tls.cert-file");
        }
        if (keyFile.isEmpty()) {
            missing.add("nimbus.cluster.tls.key-file");
        }
        if (trustFile.isEmpty()) {
            missing.add("nimbus.cluster.tls.trust-file");
        }
        if (missing.size() == 3) {
            return Optional.empty();
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("cluster TLS is half configured: set " + String.join(" and ", missing)
                    + " too (mutual TLS needs this node's certificate, its key and the CA bundle peers are checked against)");
        }
        return Optional.of(new ClusterTls(certFile.get(), keyFile.get(), trustFile.get()));
    }

    /**
     * The accepting side: key, certificate and trust loaded, a client certificate required; TLS itself is
     * started per connection ({@code upgradeToSsl}) after the connection limits admitted it.
     */
    NetServerOptions applyTo(NetServerOptions o) {
        return o.setSsl(false).setKeyCertOptions(keyCert()).setTrustOptions(trust()).setClientAuth(ClientAuth.REQUIRED);
    }

    /** The connecting side: TLS from the first byte, presenting this node's certificate, verifying the server's. */
    NetClientOptions applyTo(NetClientOptions o) {
        return o.setSsl(true).setKeyCertOptions(keyCert()).setTrustOptions(trust()).setHostnameVerificationAlgorithm("");
    }

    private PemKeyCertOptions keyCert() {
        return new PemKeyCertOptions().setCertPath(certFile).setKeyPath(keyFile);
    }

    private PemTrustOptions trust() {
        return new PemTrustOptions().addCertPath(trustFile);
    }
}
