package io.nimbus.core.coordinator;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.Proposer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The terms one coordinator holds, per key (docs/PAXOS.md "One round trip"): a ballot a quorum of the key's replicas
 * promised it, and the last write chosen under it, so that its next write to the key can skip the prepare. In memory
 * only, on purpose: a coordinator that restarts does not know whether its last write in a term was chosen, so it
 * must prepare again. A term is taken out for a write ({@link #take}) and put back only by an attempt that ended
 * holding one ({@link #put}): a write that fails or whose outcome is unknown ends the term.
 *
 * <p>A term is stale once another coordinator prepared the key: its write is then refused (a wasted round trip, then
 * the full path). When this node is itself a replica of the key, its own replica's promise tells at no cost whether
 * that happened as far as it knows ({@link LocalPromise}): a term whose ballot is no longer what it promised is
 * dropped instead of tried.
 *
 * <p>At most {@code max} keys; past that the least recently used is dropped (it costs that key one prepare). Values are
 * not kept: a term's last write keeps its ballot, version and whether it is a tombstone, which is all a precondition
 * needs. Safe for use from several threads (a node's coordinations run on its event loops): each call holds this
 * object's lock for a map operation, never while asking the local replica.
 */
public final class Terms {

    /** The ballot this node's own replica of a key promised, or null (not a replica of it, or it promised nothing). */
    @FunctionalInterface
    public interface LocalPromise {
        Ballot of(String key);
    }

    /** A term, and the topology epoch of the route whose quorum promised it. */
    private record Held(Proposer.Term term, long epoch) {
    }

    private static final byte[] NO_BYTES = new byte[0];

    private final int max;
    private final String self;
    private final LocalPromise local;
    /** In access order: the eldest entry is the least recently used. Guarded by {@code this}. */
    private final LinkedHashMap<String, Held> byKey;

    /** Terms of a coordinator that is no replica (or whose replica is not consulted). */
    public Terms(int max) {
        this(max, null, key -> null);
    }

    /**
     * @param max   how many keys' terms to hold at most (0: none, every write prepares)
     * @param self  this node's name as a replica (null: none): its replica is asked last in a write in a term
     *              ({@link Proposer#startInTerm(Proposer.Term, Ballot, java.util.Set)})
     * @param local this node's own replica's promises
     */
    public Terms(int max, String self, LocalPromise local) {
        if (max < 0) {
            throw new IllegalArgumentException("max must be >= 0: " + max);
        }
        this.max = max;
        this.self = self;
        this.local = java.util.Objects.requireNonNull(local, "local");
        this.byKey = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Held> eldest) {
                return size() > Terms.this.max;
            }
        };
    }

    /**
     * Removes and returns the term held on {@code key} for routes of {@code epoch}, or null: none, one of another epoch,
     * or one this node's own replica knows to be stale (it promised another ballot since).
     */
    public Proposer.Term take(String key, long epoch) {
        Held h;
        synchronized (this) {
            h = byKey.remove(key);
        }
        if (h == null || h.epoch() != epoch) {
            return null;
        }
        Ballot promised = local.of(key);
        return promised == null || promised.equals(h.term().ballot()) ? h.term() : null;
    }

    /** Holds {@code term} on {@code key}, promised by the quorum of a route of {@code epoch}. */
    public void put(String key, long epoch, Proposer.Term term) {
        if (max == 0) {
            return;
        }
        Proposal last = term.last();
        Proposal kept = last == null ? null
                : new Proposal(last.ballot(), last.version(), last.isTombstone() ? null : NO_BYTES);
        Held h = new Held(new Proposer.Term(term.ballot(), kept), epoch);
        synchronized (this) {
            byKey.put(key, h);
        }
    }

    /** This node's name as a replica, or null. */
    public String self() {
        return self;
    }

    /** Forgets the term on {@code key}, if any. */
    public synchronized void drop(String key) {
        byKey.remove(key);
    }

    public synchronized int size() {
        return byKey.size();
    }
}
