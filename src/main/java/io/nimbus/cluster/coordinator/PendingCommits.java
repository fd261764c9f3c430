package io.nimbus.cluster.coordinator;

import io.nimbus.core.gossip.Endpoint;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The commits this coordinator owes each peer and has not sent yet, already encoded. A commit is not waited
 * for (the client was answered when a quorum accepted), so instead of a request of its own it rides in the
 * frame of the next request to the same peer ({@link #take} by that send), or, if none comes within the
 * linger time, in a frame with the others owed to that peer. Under load that drops a frame and a reply per
 * replica per write. Thread-safe: commits are owed from event loops and the store's writer thread.
 */
final class PendingCommits {
    private final Map<Endpoint, Owed> owed = new ConcurrentHashMap<>();

    /** Owes {@code commit} to {@code to}; true if nothing was owed to it before (a flush should be scheduled). */
    boolean add(Endpoint to, byte[] commit) {
        return owed.computeIfAbsent(to, e -> new Owed()).add(commit);
    }

    /**
     * Takes the oldest commits owed to {@code to}, in order, while their encodings total at most
     * {@code bytesMax}; if {@code atLeastOne}, the oldest is taken whatever its size. The rest stay owed.
     */
    List<byte[]> take(Endpoint to, long bytesMax, boolean atLeastOne, int countMax) {
        Owed o = owed.get(to);
        return o == null ? List.of() : o.take(bytesMax, atLeastOne, countMax);
    }

    /**
     * Owes {@code commits} (taken earlier, in order) to {@code to} again, ahead of any owed since; true if nothing
     * was owed to it before (a flush should be scheduled).
     */
    boolean putBack(Endpoint to, List<byte[]> commits) {
        return owed.computeIfAbsent(to, e -> new Owed()).putBack(commits);
    }

    /** How many commits are owed to {@code to}. */
    int owedTo(Endpoint to) {
        Owed o = owed.get(to);
        return o == null ? 0 : o.size();
    }

    private static final class Owed {
        private final ArrayDeque<byte[]> commits = new ArrayDeque<>();

        synchronized boolean add(byte[] commit) {
            commits.addLast(commit);
            return commits.size() == 1;
        }

        synchronized boolean putBack(List<byte[]> taken) {
            boolean wasEmpty = commits.isEmpty();
            for (int i = taken.size() - 1; i >= 0; i--) {
                commits.addFirst(taken.get(i));
            }
            return wasEmpty && !taken.isEmpty();
        }

        synchronized int size() {
            return commits.size();
        }

        synchronized List<byte[]> take(long bytesMax, boolean atLeastOne, int countMax) {
            if (commits.isEmpty()) {
                return List.of();
            }
            List<byte[]> out = new ArrayList<>(Math.min(commits.size(), countMax));
            long bytes = 0;
            while (!commits.isEmpty() && out.size() < countMax) {
                byte[] next = commits.peekFirst();
                if (bytes + next.length > bytesMax && !(atLeastOne && out.isEmpty())) {
                    break;
                }
                bytes += next.length;
                out.add(commits.pollFirst());
            }
            return out;
        }
    }
}
