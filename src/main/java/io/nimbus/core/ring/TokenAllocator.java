package io.nimbus.core.ring;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses the tokens of a joining worker so that ownership stays balanced. Random tokens (16 per
 * node) leave some nodes owning far more than others. Instead the newcomer aims at an equal share,
 * 1/(n+1) of the ring, and takes it token by token from whichever node is most above that share:
 * each new token is placed inside that node's widest range so that exactly the wanted slice moves.
 * The first node spreads its tokens evenly from an offset. {@code offset} (a hash of the node id)
 * also nudges every token a little, so that nodes choosing from the same ring differ.
 */
public final class TokenAllocator {
    private static final double RING = Math.pow(2, 64);

    private TokenAllocator() {
    }

    public static List<Long> allocate(TokenRing ring, String newNode, int count, long offset) {
        if (count < 1) {
            throw new IllegalArgumentException("token count must be >= 1");
        }
        List<Long> chosen = new ArrayList<>(count);
        if (ring.isEmpty()) {
            long step = Long.divideUnsigned(-1L, count);
            for (int i = 0; i < count; i++) {
                chosen.add(offset + step * i);
            }
            return chosen;
        }
        Map<String, List<Long>> tokens = new HashMap<>();
        for (int i = 0; i < ring.size(); i++) {
            tokens.computeIfAbsent(ring.owner(i), k -> new ArrayList<>()).add(ring.token(i));
        }
        double target = 1.0 / (ring.nodes().size() + 1);
        double quotaLeft = target;
        tokens.put(newNode, chosen);
        for (int k = 0; k < count; k++) {
            TokenRing current = TokenRing.of(0, tokens);
            Map<String, Double> share = current.ownership();
            String heaviest = null;
            for (Map.Entry<String, Double> e : share.entrySet()) {
                if (!e.getKey().equals(newNode) && (heaviest == null || e.getValue() > share.get(heaviest))) {
                    heaviest = e.getKey();
                }
            }
            int widest = -1;
            for (int i = 0; i < current.size(); i++) {
                if (current.owner(i).equals(heaviest) && (widest < 0 || current.width(i) > current.width(widest))) {
                    widest = i;
                }
            }
            double want = quotaLeft / (count - k);
            double excess = share.get(heaviest) - target;
            double take = Math.min(excess > 0 ? Math.min(want, excess) : want, current.width(widest) / RING * 0.999);
            long slice = (long) Math.min(take * RING, (double) Long.MAX_VALUE);
            // a per-node nudge (under 1/256 of the slice): two workers that chose from the same ring at
            // the same time (which the shell tries to prevent) still get distinct tokens
            slice -= Long.remainderUnsigned(mix(offset + k), Math.max(1, slice / 256));
            long token = current.previous(widest) + slice;
            if (slice <= 0 || tokens.values().stream().anyMatch(l -> l.contains(token))) {
                break; // ranges this small cannot be split further
            }
            chosen.add(token);
            quotaLeft -= take;
        }
        return chosen;
    }

    /** SplitMix64's finalizer: spreads a counter over 64 bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
