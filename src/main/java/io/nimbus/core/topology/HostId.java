package io.nimbus.core.topology;

import java.util.Objects;
import java.util.UUID;

/**
 * The identity of one store: generated when a worker's store is created and persisted in it, so a
 * wiped store gets a new one. Replica messages name the host id they are meant for, and a replica
 * never answers for another (a wiped worker under an old name does not act as the acceptor it was).
 */
public record HostId(UUID uuid) implements Comparable<HostId> {
    public HostId {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static HostId parse(String text) {
        return new HostId(UUID.fromString(text));
    }

    @Override
    public int compareTo(HostId o) {
        return uuid.compareTo(o.uuid);
    }

    @Override
    public String toString() {
        return uuid.toString();
    }
}
