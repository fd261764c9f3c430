package io.nimbus.sim;

import java.util.PriorityQueue;

/**
 * The virtual clock: events ordered by time, then by the order they were scheduled in, so two events
 * at the same millisecond always run in the same order. Shared by the gossip and the Paxos simulators.
 */
public final class EventQueue {
    private record Event(long time, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private long seq;
    private long now;
    private long executed;

    public long now() {
        return now;
    }

    public long executed() {
        return executed;
    }

    public void at(long time, Runnable action) {
        if (time < now) {
            throw new IllegalArgumentException("event in the past: " + time + " < " + now);
        }
        queue.add(new Event(time, seq++, action));
    }

    public void after(long delay, Runnable action) {
        at(now + delay, action);
    }

    public boolean isEmpty() {
        return queue.isEmpty();
    }

    public long nextTime() {
        return queue.isEmpty() ? Long.MAX_VALUE : queue.peek().time();
    }

    /** Advances the clock to the next event and runs it. */
    public void runNext() {
        Event e = queue.poll();
        now = e.time();
        executed++;
        e.action().run();
    }

    /** Advances the clock without running anything (no event may lie before {@code time}). */
    void advanceTo(long time) {
        if (time < now || time > nextTime()) {
            throw new IllegalArgumentException("cannot advance to " + time);
        }
        now = time;
    }

    int size() {
        return queue.size();
    }
}
