package io.nimbus.core.gossip;

/**
 * How far ahead of the receiver's clock a gossiped generation may be. A node's generation is the wall
 * clock in milliseconds at its start (raised past the one it persisted), so an honest generation is ahead
 * of a receiver's clock by the two clocks' skew at most. One further ahead is forged or corrupt: a state
 * under it replaces the node's real state everywhere (higher generation wins) and keeps doing so after
 * the node restarts, until the node's own clock passes it — with the old relative bound of a year, for
 * as long as that. Refusing it bounds the harm to this horizon, and a node that hears of itself under a
 * higher generation overrides it at once ({@link Gossiper#merge}).
 *
 * <p>The bound must exceed any clock skew tolerated in the cluster; the default is one hour.
 */
public record GenerationHorizon(long aheadMaxMs) {

    public GenerationHorizon {
        if (aheadMaxMs < 0) {
            throw new IllegalArgumentException("generation horizon must be >= 0 ms, got " + aheadMaxMs);
        }
    }

    /** Whether {@code generation} is at most the horizon ahead of {@code nowMs} (the receiver's wall clock). */
    public boolean admits(long generation, long nowMs) {
        // overflow-safe for any nowMs >= Long.MIN_VALUE + aheadMax
        return generation <= nowMs || generation - nowMs <= aheadMaxMs;
    }

    /** Why {@code m} is refused (its first state or digest beyond the horizon), or null if all are admitted. */
    public String refusal(GossipMessage m, long nowMs) {
        if (m instanceof GossipMessage.Syn s) {
            return digests(s.digests(), nowMs);
        }
        if (m instanceof GossipMessage.Ack a) {
            String why = states(a.states(), nowMs);
            return why != null ? why : digests(a.requests(), nowMs);
        }
        return states(((GossipMessage.Ack2) m).states(), nowMs);
    }

    private String states(java.util.List<NodeState> states, long nowMs) {
        for (NodeState s : states) {
            if (!admits(s.generation(), nowMs)) {
                return why(s.id(), s.generation(), nowMs);
            }
        }
        return null;
    }

    private String digests(java.util.List<Digest> digests, long nowMs) {
        for (Digest d : digests) {
            if (!admits(d.generation(), nowMs)) {
                return why(d.id(), d.generation(), nowMs);
            }
        }
        return null;
    }

    private String why(String id, long generation, long nowMs) {
        return "generation " + generation + " of node " + id + " is " + ((generation - nowMs) / 1000) + " s ahead of "
                + "this node's clock (" + nowMs + " ms), more than the " + aheadMaxMs + " ms allowed "
                + "(nimbus.gossip.generation-ahead-max-ms): forged, corrupt, or that node's clock is badly wrong";
    }
}
