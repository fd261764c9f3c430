package io.nimbus.core.gossip;

import java.util.Objects;

/**
 * Everything known about one node, versioned. {@code generation} is set at each start of the node
 * (persisted, strictly increasing); within a generation the node stamps every change — each
 * heartbeat and each change of its {@link NodeInfo} — with the next value of one counter, so
 * {@code heartbeat} and {@code infoVersion} come from the same sequence.
 */
public record NodeState(String id, long generation, long heartbeat, long infoVersion, NodeInfo info) {
    public NodeState {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(info, "info");
        if (generation < 0 || heartbeat < 0 || infoVersion < 0) {
            throw new IllegalArgumentException("negative generation or version for " + id);
        }
    }

    /** The newest version in this state: what a digest advertises. */
    public long maxVersion() {
        return Math.max(heartbeat, infoVersion);
    }

    public Digest digest() {
        return new Digest(id, generation, maxVersion());
    }

    /** True if this state is newer than (generation, version). */
    public boolean isNewerThan(long otherGeneration, long otherVersion) {
        return generation > otherGeneration || (generation == otherGeneration && maxVersion() > otherVersion);
    }
}
