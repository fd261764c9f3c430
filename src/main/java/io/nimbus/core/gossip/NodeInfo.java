package io.nimbus.core.gossip;

import java.util.List;
import java.util.Objects;

/** The application state a node announces about itself. */
public record NodeInfo(Endpoint endpoint, int httpPort, NodeRole role, NodeStatus status, List<Long> tokens) {
    public NodeInfo {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(status, "status");
        tokens = List.copyOf(tokens);
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("bad http port " + httpPort);
        }
    }

    public NodeInfo withStatus(NodeStatus s) {
        return new NodeInfo(endpoint, httpPort, role, s, tokens);
    }

    public NodeInfo withTokens(List<Long> t) {
        return new NodeInfo(endpoint, httpPort, role, status, t);
    }
}
