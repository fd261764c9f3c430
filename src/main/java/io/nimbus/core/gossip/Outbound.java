package io.nimbus.core.gossip;

/**
 * A spread to send: to {@code endpoint}; {@code peerId} is the node expected there, or null for a
 * seed not known yet. The shell sends it as a request and feeds the answer to
 * {@link Gossiper#onAck} or, if none comes in time, {@link Gossiper#onNoAnswer}.
 */
public record Outbound(Endpoint endpoint, String peerId, GossipMessage.Syn syn) {
}
