package io.nimbus.sim;

import io.nimbus.core.gossip.Endpoint;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The simulated wire between nodes: every message gets its fate (lost, delayed, duplicated) from the
 * network's own random stream, and partitions cut links in both directions. A partition is a group
 * number per node: two nodes talk only when they are in the same group, checked both when a message
 * is sent and when it would arrive (a partition also drops what is in flight).
 */
final class SimNetwork {
    /** Message kinds, for the trace. */
    static final int SYN = 1;
    static final int ACK = 2;
    static final int ACK2 = 3;

    private final EventQueue queue;
    private final SplittableRandom random;
    private final Trace trace;
    private final int[] group;
    private final Map<Endpoint, Integer> byEndpoint = new HashMap<>();
    private int nextGroup = 1;
    private Faults faults;
    long sent;
    long lost;
    long cut;
    long delivered;

    SimNetwork(EventQueue queue, SplittableRandom random, Trace trace, int nodes, Faults faults) {
        this.queue = queue;
        this.random = random;
        this.trace = trace;
        this.group = new int[nodes];
        this.faults = faults;
        for (int i = 0; i < nodes; i++) {
            byEndpoint.put(SimConfig.endpoint(i), i);
        }
    }

    Faults faults() {
        return faults;
    }

    void setFaults(Faults f) {
        trace.add("faults", Double.doubleToLongBits(f.loss()), f.minDelayMs(), f.maxDelayMs(),
                Double.doubleToLongBits(f.duplicate()));
        this.faults = f;
    }

    /** The node listening at {@code endpoint}, or -1. */
    int resolve(Endpoint endpoint) {
        Integer i = byEndpoint.get(endpoint);
        return i == null ? -1 : i;
    }

    boolean connected(int a, int b) {
        return group[a] == group[b];
    }

    /** Cuts {@code side} off from everyone else (the nodes in {@code side} still talk to each other). */
    void partition(Collection<Integer> side) {
        int g = nextGroup++;
        for (int i : side) {
            group[i] = g;
        }
        trace.add("partition", g, side.size());
    }

    void isolate(int node) {
        group[node] = nextGroup++;
        trace.add("isolate", node);
    }

    void heal() {
        Arrays.fill(group, 0);
        trace.add("heal");
    }

    /** Sends one message from node {@code from} to node {@code to}; {@code deliver} runs on arrival. */
    void send(int from, int to, int kind, long contentHash, Runnable deliver) {
        sent++;
        // Always draw the same numbers per message, whatever the outcome, so fates stay aligned.
        boolean isLost = random.nextDouble() < faults.loss();
        boolean twice = random.nextDouble() < faults.duplicate();
        long d1 = delay();
        long d2 = delay();
        if (!connected(from, to)) {
            cut++;
            trace.add("cut", from, to, kind, contentHash);
            return;
        }
        if (isLost) {
            lost++;
            trace.add("lost", from, to, kind, contentHash);
            return;
        }
        long now = queue.now();
        queue.at(now + d1, () -> arrive(from, to, kind, contentHash, deliver));
        if (twice) {
            queue.at(now + d2, () -> arrive(from, to, kind, contentHash, deliver));
        }
    }

    private long delay() {
        return faults.minDelayMs() + random.nextLong(faults.maxDelayMs() - faults.minDelayMs() + 1);
    }

    private void arrive(int from, int to, int kind, long contentHash, Runnable deliver) {
        if (!connected(from, to)) {
            cut++;
            trace.add("cut-in-flight", from, to, kind, contentHash);
            return;
        }
        delivered++;
        trace.add("arrive", from, to, kind, contentHash);
        deliver.run();
    }
}
