package io.nimbus.lin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The search's cache of configurations already explored (Lowe 2017; Porcupine's cache).
 *
 * <p>A configuration is the set of operations linearized so far plus the register state. Reaching one
 * that was seen before cannot lead anywhere new. This cache also prunes by <em>dominance</em> over
 * indeterminate operations: with the same acknowledged operations {@code D} linearized and the same state,
 * a configuration that has used up more indeterminate operations ({@code I' ⊇ I}) can do nothing that
 * {@code (D, I, state)} cannot (indeterminate operations are optional, and they never constrain real-time
 * order since they have no response). Without this, every in-doubt write that nobody observed doubles
 * the work after it.
 */
final class DominanceMemo {
    private final Map<Key, List<long[]>> seen = new HashMap<>();
    private long size;

    /**
     * Records {@code (acked, inDoubt, state)} and returns true if it is new, or false if it or a
     * configuration dominating it was recorded before.
     */
    boolean visit(long[] acked, long[] inDoubt, long state) {
        List<long[]> usedSets = seen.computeIfAbsent(new Key(acked.clone(), state), k -> new ArrayList<>(1));
        for (long[] used : usedSets) {
            if (subset(used, inDoubt)) {
                return false;
            }
        }
        usedSets.removeIf(used -> subset(inDoubt, used)); // now dominated by the new one
        usedSets.add(inDoubt.clone());
        size++;
        return true;
    }

    /** How many configurations have been recorded. */
    long size() {
        return size;
    }

    private static boolean subset(long[] a, long[] b) {
        for (int i = 0; i < a.length; i++) {
            if ((a[i] & ~b[i]) != 0) {
                return false;
            }
        }
        return true;
    }

    private static final class Key {
        private final long[] bits;
        private final long state;
        private final int hash;

        Key(long[] bits, long state) {
            this.bits = bits;
            this.state = state;
            this.hash = 31 * Arrays.hashCode(bits) + Long.hashCode(state);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.hash == hash && k.state == state && Arrays.equals(k.bits, bits);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
