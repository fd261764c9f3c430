package io.nimbus.node;

import io.nimbus.core.kv.ConsistencyLevel;

/** Fewer replicas are reachable than the level needs: refused at once, nothing was written. */
public final class NotEnoughReplicasException extends RuntimeException {
    private final ConsistencyLevel level;
    private final int needed;
    private final int alive;

    public NotEnoughReplicasException(ConsistencyLevel level, int needed, int alive, String why) {
        super(level + " needs " + needed + " replica(s), " + alive + " reachable" + (why == null ? "" : ": " + why),
                null, false, false);
        this.level = level;
        this.needed = needed;
        this.alive = alive;
    }

    public ConsistencyLevel level() {
        return level;
    }

    public int needed() {
        return needed;
    }

    public int alive() {
        return alive;
    }
}
