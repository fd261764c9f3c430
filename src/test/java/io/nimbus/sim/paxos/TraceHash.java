package io.nimbus.sim.paxos;

/**
 * A running hash over everything that happened (message fates, deliveries, faults, client events). Two
 * runs of the same seed must end with the same hash. Only JVM-independent values go in.
 */
final class TraceHash {
    private long hash = 0x9E3779B97F4A7C15L;
    private long entries;

    void add(String tag, long... values) {
        long h = mix(hash, tag.hashCode());
        for (long v : values) {
            h = mix(h, v);
        }
        hash = h;
        entries++;
    }

    long hash() {
        return hash;
    }

    long entries() {
        return entries;
    }

    static long mix(long h, long v) {
        long x = (h ^ v) * 0xBF58476D1CE4E5B9L;
        x ^= x >>> 31;
        x *= 0x94D049BB133111EBL;
        return x ^ (x >>> 29);
    }

    static long of(String s) {
        return s == null ? 0 : s.hashCode();
    }
}
