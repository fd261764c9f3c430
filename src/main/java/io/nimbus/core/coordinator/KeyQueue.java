package io.nimbus.core.coordinator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The order in which one coordinator runs the requests it holds for each key: one at a time per key
 * (concurrent rounds from one coordinator on one key would only pre-empt each other's ballots), the
 * rest waiting. Pure and single-threaded: the shell calls it under one lock and starts what it returns.
 *
 * <p><b>Order.</b> First come, first served — except that a compare-and-set waiting on a key goes ahead
 * of the blind writes waiting there ({@link Kind#COMPARE}): see {@link #next}.
 *
 * @param <T> the shell's request handle
 */
public final class KeyQueue<T> {

    /** What a request is, as far as ordering goes. */
    public enum Kind {
        /** Reads, unconditional writes and deletes. */
        PLAIN,
        /** A write judged against a version the client read (If-Match, If-None-Match, delete-if). */
        COMPARE
    }

    /** A write under a precondition is a {@link Kind#COMPARE}; everything else is {@link Kind#PLAIN}. */
    public static Kind kindOf(Coordination.Request request) {
        return request instanceof Coordination.Request.Write w
                && !w.mutation().precondition().equals(io.nimbus.core.kv.Precondition.NONE) ? Kind.COMPARE : Kind.PLAIN;
    }

    private record Waiting<T>(T item, Kind kind) {
    }

    private static final class Line<T> {
        T running;
        final Deque<Waiting<T>> waiting = new ArrayDeque<>();
        /** Compare-and-sets run in a row while the oldest waiting request was a plain one. */
        int passedOver;
    }

    /** How many compare-and-sets in a row may go ahead of the oldest waiting plain request. */
    public static final int COMPARES_AHEAD_MAX = 4;

    private final boolean comparesFirst;
    private final int comparesAheadMax;
    private final Map<String, Line<T>> lines = new HashMap<>();

    /** @param comparesFirst whether a waiting compare-and-set goes ahead of waiting plain requests (else FIFO) */
    public KeyQueue(boolean comparesFirst) {
        this(comparesFirst, COMPARES_AHEAD_MAX);
    }

    /**
     * @param comparesAheadMax how many compare-and-sets in a row may pass the oldest waiting plain request
     *                         before it runs (so compare-and-set clients that retry at once cannot starve it)
     */
    public KeyQueue(boolean comparesFirst, int comparesAheadMax) {
        if (comparesAheadMax < 1) {
            throw new IllegalArgumentException("comparesAheadMax must be >= 1");
        }
        this.comparesFirst = comparesFirst;
        this.comparesAheadMax = comparesAheadMax;
    }

    /** {@code item} arrived for {@code key}: true if it runs now, false if it waits. */
    public boolean arrive(String key, T item, Kind kind) {
        Line<T> line = lines.computeIfAbsent(key, k -> new Line<>());
        if (line.running == null) {
            line.running = item;
            return true;
        }
        line.waiting.add(new Waiting<>(item, kind));
        return false;
    }

    /**
     * {@code item} ended (answered, failed or given up): the request to run next on its key, or null.
     * An item that was still waiting (its deadline came first) just leaves the line.
     */
    public T leave(String key, T item) {
        Line<T> line = lines.get(key);
        if (line == null) {
            return null;
        }
        if (line.running != item) {
            line.waiting.removeIf(w -> w.item() == item);
            return null;
        }
        line.running = next(line);
        if (line.running == null) {
            lines.remove(key);
        }
        return line.running;
    }

    /**
     * The next to run: the oldest waiting compare-and-set if any (and {@code comparesFirst}), else the
     * oldest request. A compare-and-set is judged against a version its client read moments ago; every
     * write run before it makes it fail (truthfully, 412). Blind writers queued behind the key would
     * otherwise always get in between — the client's read itself waited its turn behind them, and so
     * does its write — so on a hot key compare-and-set could almost never succeed. Plain requests cannot
     * starve: after {@code comparesAheadMax} compare-and-sets in a row have passed the oldest waiting
     * plain request, it runs (clients that retry a failed compare-and-set at once, with the ETag of the
     * 412, would otherwise keep one waiting for good).
     */
    private T next(Line<T> line) {
        Deque<Waiting<T>> waiting = line.waiting;
        if (waiting.isEmpty()) {
            return null;
        }
        if (comparesFirst && waiting.peek().kind() == Kind.PLAIN && line.passedOver < comparesAheadMax) {
            for (var it = waiting.iterator(); it.hasNext(); ) {
                Waiting<T> w = it.next();
                if (w.kind() == Kind.COMPARE) {
                    it.remove();
                    line.passedOver++;
                    return w.item();
                }
            }
        }
        Waiting<T> oldest = waiting.poll();
        if (oldest.kind() == Kind.PLAIN) {
            line.passedOver = 0;
        }
        return oldest.item();
    }

    /** Requests held for {@code key}: the running one first, then the waiting ones in arrival order. */
    public List<T> held(String key) {
        Line<T> line = lines.get(key);
        List<T> out = new ArrayList<>();
        if (line != null) {
            out.add(line.running);
            line.waiting.forEach(w -> out.add(w.item()));
        }
        return out;
    }

    public int keys() {
        return lines.size();
    }
}
