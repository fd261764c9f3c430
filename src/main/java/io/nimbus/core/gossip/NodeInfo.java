package io.nimbus.core.gossip;

import java.util.List;
import java.util.Objects;

/**
 * The application state a node announces about itself. {@code hostId} is its store's identity (empty
 * for a proxy, or before the store is open) and {@code topologyEpoch} the epoch of the topology it
 * holds (0: none yet): a node that sees a higher epoch fetches that topology from the announcer.
 */
public record NodeInfo(Endpoint endpoint, int httpPort, NodeRole role, NodeStatus status, List<Long> tokens,
                       String hostId, long topologyEpoch) {
    public NodeInfo {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(hostId, "hostId");
        tokens = List.copyOf(tokens);
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("bad http port " + httpPort);
        }
        if (topologyEpoch < 0) {
            throw new IllegalArgumentException("negative topology epoch " + topologyEpoch);
        }
    }

    public NodeInfo(Endpoint endpoint, int httpPort, NodeRole role, NodeStatus status, List<Long> tokens) {
        this(endpoint, httpPort, role, status, tokens, "", 0);
    }

    public NodeInfo withStatus(NodeStatus s) {
        return new NodeInfo(endpoint, httpPort, role, s, tokens, hostId, topologyEpoch);
    }

    public NodeInfo withTokens(List<Long> t) {
        return new NodeInfo(endpoint, httpPort, role, status, t, hostId, topologyEpoch);
    }

    public NodeInfo withTopology(String host, long epoch) {
        return new NodeInfo(endpoint, httpPort, role, status, tokens, host, epoch);
    }
}
