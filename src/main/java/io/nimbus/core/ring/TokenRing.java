package io.nimbus.core.ring;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * An immutable consistent-hashing ring of virtual nodes. Token {@code t} owns the range
 * {@code (previous token, t]}, wrapping around; the replicas of a key are the first {@code rf}
 * distinct nodes met walking clockwise from the key's token. Two nodes claiming the same token:
 * the lower node id keeps it (so every node builds the same ring from the same input).
 * {@code epoch} identifies this snapshot; the caller assigns it.
 */
public final class TokenRing {
    private static final double RING_SIZE = Math.pow(2, 64);

    private final long epoch;
    private final long[] tokens;
    private final String[] owners;
    private final List<String> nodes;

    private TokenRing(long epoch, long[] tokens, String[] owners) {
        this.epoch = epoch;
        this.tokens = tokens;
        this.owners = owners;
        this.nodes = List.copyOf(new java.util.TreeSet<>(Arrays.asList(owners)));
    }

    public static TokenRing of(long epoch, Map<String, List<Long>> tokensByNode) {
        TreeMap<Long, String> byToken = new TreeMap<>();
        for (Map.Entry<String, List<Long>> e : new TreeMap<>(tokensByNode).entrySet()) {
            for (long t : e.getValue()) {
                byToken.putIfAbsent(t, e.getKey());
            }
        }
        long[] tokens = new long[byToken.size()];
        String[] owners = new String[byToken.size()];
        int i = 0;
        for (Map.Entry<Long, String> e : byToken.entrySet()) {
            tokens[i] = e.getKey();
            owners[i++] = e.getValue();
        }
        return new TokenRing(epoch, tokens, owners);
    }

    public long epoch() {
        return epoch;
    }

    public boolean isEmpty() {
        return tokens.length == 0;
    }

    /** The distinct nodes on the ring, in id order. */
    public List<String> nodes() {
        return nodes;
    }

    public int size() {
        return tokens.length;
    }

    public long token(int i) {
        return tokens[i];
    }

    public String owner(int i) {
        return owners[i];
    }

    /** Index of the first token >= {@code token}, wrapping to 0. */
    private int successor(long token) {
        int i = Arrays.binarySearch(tokens, token);
        if (i < 0) {
            i = -i - 1;
        }
        return i == tokens.length ? 0 : i;
    }

    /** The first {@code rf} distinct nodes clockwise from {@code token} (fewer if the ring has fewer). */
    public List<String> replicas(long token, int rf) {
        if (tokens.length == 0) {
            return List.of();
        }
        Set<String> out = new LinkedHashSet<>();
        int start = successor(token);
        for (int k = 0; k < tokens.length && out.size() < rf; k++) {
            out.add(owners[(start + k) % tokens.length]);
        }
        return new ArrayList<>(out);
    }

    /** Fraction of the ring each node owns as primary (sums to 1). */
    public Map<String, Double> ownership() {
        Map<String, Double> share = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            share.merge(owners[i], width(i) / RING_SIZE, Double::sum);
        }
        return share;
    }

    /** Size of range i, {@code (tokens[i-1], tokens[i]]}, as an unsigned count of tokens (the whole ring for one token). */
    double width(int i) {
        if (tokens.length == 1) {
            return RING_SIZE;
        }
        long prev = tokens[(i - 1 + tokens.length) % tokens.length];
        long w = tokens[i] - prev; // wraps correctly modulo 2^64
        return w == 0 ? RING_SIZE : unsigned(w);
    }

    static double unsigned(long v) {
        return v >= 0 ? (double) v : (double) (v >>> 1) * 2.0 + (v & 1);
    }

    /** The token just before {@code i} on the ring. */
    long previous(int i) {
        return tokens[(i - 1 + tokens.length) % tokens.length];
    }
}
