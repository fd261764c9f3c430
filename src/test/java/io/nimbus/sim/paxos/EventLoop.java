package io.nimbus.sim.paxos;

import java.util.PriorityQueue;

/**
 * The virtual clock: events ordered by time, then by the order they were scheduled in, so two events
 * at the same millisecond always run in the same order.
 */
final class EventLoop {
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

    long now() {
        return now;
    }

    long executed() {
        return executed;
    }

    void at(long time, Runnable action) {
        if (time < now) {
            throw new IllegalArgumentException("event in the past: " + time + " < " + now);
        }
        queue.add(new Event(time, seq++, action));
    }

    void after(long delay, Runnable action) {
        at(now + delay, action);
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    long nextTime() {
        return queue.isEmpty() ? Long.MAX_VALUE : queue.peek().time();
    }

    /** Advances the clock to the next event and runs it. */
    void runNext() {
        Event e = queue.poll();
        now = e.time();
        executed++;
        e.action().run();
    }
}
