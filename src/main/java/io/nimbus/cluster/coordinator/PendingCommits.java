package io.nimbus.cluster.coordinator;

import io.nimbus.cluster.peer.PeerRefusedException;
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
    private final long bytesMax;

    /**
     * @param bytesMax bytes of commits that may be owed to one peer again after its guard refused them (nothing
     *                 was sent); refused commits beyond that are dropped ({@link #putBack})
     */
    PendingCommits(long bytesMax) {
        this.bytesMax = bytesMax;
    }

    /** What became of commits put back after a refused send. */
    record Returned(boolean flushNeeded, int dropped) {
    }

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
     * Owes {@code commits} (taken earlier, in order, and refused by the peer's guard: nothing was sent) to
     * {@code to} again, ahead of any owed since (several refused frames put back one after another end up in
     * reverse order of each other: harmless, as a replica learns a commit by {@code Proposal.ORDER}, not arrival), unless that would make more than the bytes this was built with
     * owed to it: then they are dropped (a lost commit is a lost message, which Paxos tolerates: the next prepare
     * of the key finishes the value), so that a peer whose guard keeps refusing does not grow this without bound.
     * A flush should be scheduled if nothing was owed to it before and they were kept.
     */
    Returned putBack(Endpoint to, List<byte[]> commits) {
        return owed.computeIfAbsent(to, e -> new Owed()).putBack(commits, bytesMax);
    }

    /**
     * Commits {@code to}'s guard refused to send, by why. Its bulkhead was full (calls to it are in flight, so it
     * is alive): owed again, as {@link #putBack}. Its breaker was open: dropped, as the peer is taken for down and
     * holding them for the whole open period would only grow this (the key's next prepare finishes the value).
     */
    Returned refused(Endpoint to, List<byte[]> commits, PeerRefusedException.Reason why) {
        if (why == PeerRefusedException.Reason.BREAKER_OPEN) {
            return new Returned(false, commits.size());
        }
        return putBack(to, commits);
    }

    /** How many commits are owed to {@code to}. */
    int owedTo(Endpoint to) {
        Owed o = owed.get(to);
        return o == null ? 0 : o.size();
    }

    private static final class Owed {
        private final ArrayDeque<byte[]> commits = new ArrayDeque<>();
        private long bytes;

        synchronized boolean add(byte[] commit) {
            commits.addLast(commit);
            bytes += commit.length;
            return commits.size() == 1;
        }

        synchronized Returned putBack(List<byte[]> taken, long bytesMax) {
            long more = 0;
            for (byte[] c : taken) {
                more += c.length;
            }
            if (bytes + more > bytesMax) {
                return new Returned(false, taken.size());
            }
            boolean wasEmpty = commits.isEmpty();
            for (int i = taken.size() - 1; i >= 0; i--) {
                commits.addFirst(taken.get(i));
            }
            bytes += more;
            return new Returned(wasEmpty && !taken.isEmpty(), 0);
        }

        synchronized int size() {
            return commits.size();
        }

        synchronized List<byte[]> take(long bytesMax, boolean atLeastOne, int countMax) {
            if (commits.isEmpty()) {
                return List.of();
            }
            List<byte[]> out = new ArrayList<>(Math.min(commits.size(), countMax));
            long taken = 0;
            while (!commits.isEmpty() && out.size() < countMax) {
                byte[] next = commits.peekFirst();
                if (taken + next.length > bytesMax && !(atLeastOne && out.isEmpty())) {
                    break;
                }
                taken += next.length;
                out.add(commits.pollFirst());
            }
            bytes -= taken;
            return out;
        }
    }
}
