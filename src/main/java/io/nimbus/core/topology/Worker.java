package io.nimbus.core.topology;

import io.nimbus.core.gossip.Endpoint;

import java.util.List;
import java.util.Objects;

/**
 * A worker in the topology: its name, the host id of its store, the cluster address it registered
 * with (gossip's newer address wins when known) and its ring tokens.
 */
public record Worker(String name, HostId host, Endpoint endpoint, int httpPort, List<Long> tokens) {
    public Worker {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(endpoint, "endpoint");
        tokens = List.copyOf(tokens);
        if (tokens.isEmpty()) {
            throw new IllegalArgumentException("worker " + name + " has no tokens");
        }
    }

    public Replica replica() {
        return new Replica(name, host);
    }
}
