package io.nimbus.core.gossip;

/** A node's place in the cluster's life cycle, as it announces it. */
public enum NodeStatus {
    JOINING, NORMAL, LEAVING, LEFT
}
