package io.nimbus.core.gossip;

/** What a node does: workers store data, proxies only route. */
public enum NodeRole {
    WORKER, PROXY
}
