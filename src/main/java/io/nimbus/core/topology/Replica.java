package io.nimbus.core.topology;

import java.util.Objects;

/** One replica as the topology names it: a worker's name and the host id of its store. */
public record Replica(String name, HostId host) {
    public Replica {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(host, "host");
    }
}
