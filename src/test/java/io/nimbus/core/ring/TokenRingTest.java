package io.nimbus.core.ring;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenRingTest {

    @Test
    void replicasAreTheFirstDistinctNodesClockwise() {
        TokenRing ring = TokenRing.of(1, Map.of("a", List.of(10L, 50L), "b", List.of(20L), "c", List.of(30L, 40L)));
        assertEquals(List.of("b", "c", "a"), ring.replicas(15, 3));
        assertEquals(List.of("a", "b"), ring.replicas(10, 2), "a token equal to a node's token belongs to it");
        assertEquals(List.of("c", "a"), ring.replicas(31, 2), "c's two tokens count once");
        assertEquals(List.of("a", "b", "c"), ring.replicas(51, 5), "wraps around; capped at the nodes there are");
        assertEquals(List.of("a", "b", "c"), ring.replicas(Long.MIN_VALUE, 3));
        assertEquals(List.of(), TokenRing.of(1, Map.of()).replicas(0, 3));
    }

    @Test
    void aTokenClaimedTwiceGoesToTheLowerNodeId() {
        TokenRing ring = TokenRing.of(1, Map.of("b", List.of(5L), "a", List.of(5L, 9L)));
        assertEquals(2, ring.size());
        assertEquals(List.of("a"), ring.replicas(5, 1));
    }

    @Test
    void ownershipSumsToOneAndFollowsRangeWidths() {
        TokenRing ring = TokenRing.of(1, Map.of("a", List.of(0L), "b", List.of(Long.MIN_VALUE)));
        Map<String, Double> share = ring.ownership();
        assertEquals(0.5, share.get("a"), 1e-12);
        assertEquals(0.5, share.get("b"), 1e-12);
        assertEquals(1.0, TokenRing.of(1, Map.of("solo", List.of(42L))).ownership().get("solo"), 1e-12);
    }

    static double spread(TokenRing ring) {
        Map<String, Double> s = ring.ownership();
        double max = s.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        double min = s.values().stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        return max / min;
    }

    static TokenRing allocated(int nodes, int tokensEach) {
        Map<String, List<Long>> tokens = new HashMap<>();
        for (int n = 0; n < nodes; n++) {
            String id = "w" + n;
            tokens.put(id, TokenAllocator.allocate(TokenRing.of(0, tokens), id, tokensEach, Murmur3.hash64(id.getBytes())));
        }
        return TokenRing.of(1, tokens);
    }

    static TokenRing random(int nodes, int tokensEach, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, List<Long>> tokens = new HashMap<>();
        for (int n = 0; n < nodes; n++) {
            List<Long> l = new ArrayList<>();
            for (int t = 0; t < tokensEach; t++) {
                l.add(r.nextLong());
            }
            tokens.put("w" + n, l);
        }
        return TokenRing.of(1, tokens);
    }

    @Test
    void allocatedTokensAreBalancedWhereRandomOnesAreNot() {
        System.out.println("workers  allocated max/min  random max/min (median of 21 seeds)");
        for (int n : new int[]{3, 5, 10}) {
            double allocated = spread(allocated(n, 16));
            List<Double> randoms = new ArrayList<>();
            for (long seed = 0; seed < 21; seed++) {
                randoms.add(spread(random(n, 16, seed)));
            }
            randoms.sort(Double::compare);
            double randomMedian = randoms.get(10);
            System.out.printf("%7d  %17.3f  %14.3f%n", n, allocated, randomMedian);
            assertTrue(allocated < 1.2, n + " workers: allocated max/min " + allocated);
            assertTrue(allocated < randomMedian, n + " workers: allocated " + allocated + " vs random " + randomMedian);
        }
    }

    @Test
    void everyWorkerGetsItsTokensAndTheyAreDistinct() {
        TokenRing ring = allocated(10, 16);
        assertEquals(160, ring.size());
        assertEquals(10, ring.nodes().size());
    }

    @Test
    void twoWorkersChoosingFromTheSameRingGetDistinctTokens() {
        TokenRing one = allocated(1, 16);
        List<Long> a = TokenAllocator.allocate(one, "w1", 16, Murmur3.hash64("w1".getBytes()));
        List<Long> b = TokenAllocator.allocate(one, "w2", 16, Murmur3.hash64("w2".getBytes()));
        assertEquals(16, a.size());
        assertEquals(16, b.size());
        TokenRing both = TokenRing.of(2, Map.of("w0", tokensOf(one, "w0"), "w1", a, "w2", b));
        assertEquals(48, both.size(), "no token is claimed twice");
        both.ownership().forEach((node, share) -> assertTrue(share > 0.05, node + " owns " + share));
    }

    private static List<Long> tokensOf(TokenRing ring, String node) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < ring.size(); i++) {
            if (ring.owner(i).equals(node)) {
                out.add(ring.token(i));
            }
        }
        return out;
    }
}
