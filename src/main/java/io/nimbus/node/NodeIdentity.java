package io.nimbus.node;

import io.nimbus.config.NimbusConfig;
import io.nimbus.core.kv.Ballot;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** This node's id: {@code nimbus.node.id}, or {@code <hostname>-<http port>}. */
@ApplicationScoped
public class NodeIdentity {
    private final String id;

    public NodeIdentity(NimbusConfig config, @ConfigProperty(name = "quarkus.http.port") int httpPort) {
        String configured = config.node().id().orElseGet(() -> hostName() + "-" + httpPort);
        String clean = configured.replaceAll("[^A-Za-z0-9._:-]", "_");
        if (clean.isEmpty() || clean.length() > Ballot.NODE_ID_CHARS_MAX) {
            throw new IllegalArgumentException("nimbus.node.id must be 1.." + Ballot.NODE_ID_CHARS_MAX
                    + " characters of [A-Za-z0-9._:-], got '" + configured + "'");
        }
        this.id = clean;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            String env = System.getenv("HOSTNAME");
            return env != null && !env.isBlank() ? env : "localhost";
        }
    }

    public String id() {
        return id;
    }
}
