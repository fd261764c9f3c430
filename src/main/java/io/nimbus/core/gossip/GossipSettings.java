package io.nimbus.core.gossip;

import java.util.List;

/**
 * The knobs of the membership protocol, all bounded.
 *
 * @param intervalMs            one gossip round
 * @param strategy              how the peer of a round is chosen
 * @param failureTimeoutMs      a peer whose heartbeat has not advanced for this long is unreachable
 * @param missedAcksMax         a peer that left this many of our spreads unanswered in a row is unreachable
 * @param statesPerMessageMax   most node states carried by one ack / ack2 (the rest follow next rounds)
 * @param digestsPerMessageMax  most digests in one spread (a random subset beyond that)
 * @param generationJumpMax     a generation this far above the known one is implausible and refused
 * @param generationAheadMaxMs  a generation this far ahead of the receiver's clock is implausible and refused
 *                              ({@link GenerationHorizon})
 * @param seedBackoffMaxMs      longest wait between catch-up attempts while no seed answers
 * @param seeds                 endpoints to catch up from (may include this node's own; it is skipped)
 */
public record GossipSettings(long intervalMs, Strategy strategy, long failureTimeoutMs, int missedAcksMax,
                             int statesPerMessageMax, int digestsPerMessageMax, long generationJumpMax,
                             long generationAheadMaxMs, long seedBackoffMaxMs, List<Endpoint> seeds) {

    public enum Strategy { RANDOM, ROUND_ROBIN }

    public GenerationHorizon generationHorizon() {
        return new GenerationHorizon(generationAheadMaxMs);
    }

    public GossipSettings {
        seeds = List.copyOf(seeds);
        if (intervalMs < 1 || failureTimeoutMs < intervalMs || missedAcksMax < 1 || statesPerMessageMax < 1
                || digestsPerMessageMax < 1 || generationJumpMax < 1 || generationAheadMaxMs < 0
                || seedBackoffMaxMs < intervalMs) {
            throw new IllegalArgumentException("gossip settings out of range: " + this);
        }
    }
}
