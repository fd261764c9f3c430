package io.nimbus.core.gossip;

/** One row of a node's view of the cluster. */
public record Member(String id, NodeInfo info, long generation, long heartbeat, boolean reachable, boolean self) {
}
