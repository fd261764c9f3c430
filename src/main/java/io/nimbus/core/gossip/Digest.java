package io.nimbus.core.gossip;

/** What a node knows about another, in brief: whose state, which generation, up to which version. */
public record Digest(String id, long generation, long maxVersion) {
}
