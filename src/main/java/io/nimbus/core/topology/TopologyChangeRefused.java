package io.nimbus.core.topology;

/** A transformation that does not apply to the topology it was given; the message says why. */
public final class TopologyChangeRefused extends RuntimeException {
    public TopologyChangeRefused(String why) {
        super(why, null, false, false);
    }
}
