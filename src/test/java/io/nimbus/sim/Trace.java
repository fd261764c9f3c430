package io.nimbus.sim;

import io.nimbus.core.gossip.Digest;
import io.nimbus.core.gossip.GossipMessage;
import io.nimbus.core.gossip.NodeState;

/**
 * A running hash over everything that happened: each delivered or dropped message (with a hash of its
 * content) and each state change. Two runs with the same seed must end with the same hash. Only
 * JVM-independent values go in (no identity or enum hash codes), so the hash also replays across runs.
 * With {@code -Dsim.verbose=true} every entry is also printed. Shared by the gossip and the Paxos simulators.
 */
public final class Trace {
    private final boolean verbose = Boolean.getBoolean("sim.verbose");
    private long hash = 0x9E3779B97F4A7C15L;
    private long entries;

    /** One entry: a short tag and numbers. */
    public void add(String tag, long... values) {
        long h = mix(hash, tag.hashCode());
        for (long v : values) {
            h = mix(h, v);
        }
        hash = h;
        entries++;
        if (verbose) {
            System.out.println("trace " + entries + " " + tag + " " + java.util.Arrays.toString(values));
        }
    }

    public long hash() {
        return hash;
    }

    public long entries() {
        return entries;
    }

    public static long mix(long h, long v) {
        long x = (h ^ v) * 0xBF58476D1CE4E5B9L;
        x ^= x >>> 31;
        x *= 0x94D049BB133111EBL;
        return x ^ (x >>> 29);
    }

    static long of(GossipMessage m) {
        long h = mix(1, m.from().hashCode());
        if (m instanceof GossipMessage.Syn s) {
            h = mix(h, s.fromEndpoint().toString().hashCode());
            h = digests(h, s.digests());
        } else if (m instanceof GossipMessage.Ack a) {
            h = states(mix(h, 2), a.states());
            h = digests(h, a.requests());
        } else if (m instanceof GossipMessage.Ack2 a2) {
            h = states(mix(h, 3), a2.states());
        }
        return h;
    }

    private static long digests(long h, Iterable<Digest> digests) {
        for (Digest d : digests) {
            h = mix(mix(mix(h, d.id().hashCode()), d.generation()), d.maxVersion());
        }
        return h;
    }

    private static long states(long h, Iterable<NodeState> states) {
        for (NodeState s : states) {
            h = mix(mix(mix(mix(h, s.id().hashCode()), s.generation()), s.heartbeat()), s.infoVersion());
            h = mix(h, s.info().status().ordinal());
        }
        return h;
    }
}
