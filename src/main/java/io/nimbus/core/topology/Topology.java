package io.nimbus.core.topology;

import io.nimbus.core.ring.TokenAllocator;
import io.nimbus.core.ring.TokenRing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The cluster's one view of who replicates what (TOPOLOGY.md §2): an immutable value with an epoch,
 * changed only by compare-and-set on the topology register, persisted by every node before it acts
 * on it. Every node holding the same epoch computes the same placement for every key.
 *
 * <ul>
 *   <li>{@code rf}: fixed at bootstrap; a key has {@code min(rf, workers)} natural replicas.</li>
 *   <li>{@code changedAt}: for each elementary range (keyed by its end token, start exclusive, wrapping),
 *       the epoch of its last placement change. A replica refuses requests older than that (the fence).</li>
 *   <li>{@code electorate}: the acceptors of the topology register; {@code electorateChangedAt} is the
 *       register's own fence.</li>
 * </ul>
 * Transformations are pure functions to the next epoch; they throw {@link TopologyChangeRefused} when
 * they do not apply.
 */
public final class Topology {
    /** The register's electorate grows with the first workers up to this size. */
    public static final int ELECTORATE_SIZE = 3;

    private final UUID clusterId;
    private final long epoch;
    private final int rf;
    private final List<Worker> workers;
    private final Electorate electorate;
    private final long electorateChangedAt;
    private final NavigableMap<Long, Long> changedAt;
    private final Retired retired;
    private final TokenRing ring;
    private final Map<String, Worker> byName;

    public Topology(UUID clusterId, long epoch, int rf, List<Worker> workers, Electorate electorate,
                    long electorateChangedAt, NavigableMap<Long, Long> changedAt, Retired retired) {
        this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be >= 1, got " + epoch);
        }
        if (rf < 1) {
            throw new IllegalArgumentException("replication factor must be >= 1, got " + rf);
        }
        List<Worker> sorted = new ArrayList<>(workers);
        sorted.sort(Comparator.comparing(Worker::name));
        this.workers = List.copyOf(sorted);
        Map<String, Worker> names = new LinkedHashMap<>();
        Set<HostId> hosts = new HashSet<>();
        Map<String, List<Long>> tokens = new TreeMap<>();
        Set<Long> allTokens = new HashSet<>();
        for (Worker w : this.workers) {
            if (names.put(w.name(), w) != null || !hosts.add(w.host())) {
                throw new IllegalArgumentException("worker " + w.name() + " or its host id appears twice");
            }
            for (long t : w.tokens()) {
                if (!allTokens.add(t)) {
                    throw new IllegalArgumentException("token " + t + " is claimed twice");
                }
            }
            tokens.put(w.name(), w.tokens());
        }
        for (Replica r : electorate.members()) {
            Worker w = names.get(r.name());
            if (w == null || !w.host().equals(r.host())) {
                throw new IllegalArgumentException("electorate member " + r + " is not a worker of the topology");
            }
        }
        if (electorateChangedAt < 1 || electorateChangedAt > epoch) {
            throw new IllegalArgumentException("electorate changed at " + electorateChangedAt + ", epoch " + epoch);
        }
        for (long e : changedAt.values()) {
            if (e < 1 || e > epoch) {
                throw new IllegalArgumentException("a range changed at epoch " + e + " of " + epoch);
            }
        }
        if (changedAt.isEmpty()) {
            throw new IllegalArgumentException("no range epochs");
        }
        this.rf = rf;
        this.epoch = epoch;
        this.electorate = electorate;
        this.electorateChangedAt = electorateChangedAt;
        this.changedAt = Collections.unmodifiableNavigableMap(new TreeMap<>(changedAt));
        this.retired = java.util.Objects.requireNonNull(retired, "retired");
        this.byName = Collections.unmodifiableMap(names);
        this.ring = TokenRing.of(epoch, tokens);
    }

    /** Epoch 1 of a new cluster: the founding worker alone, holding every key, the register's only acceptor. */
    public static Topology bootstrap(UUID clusterId, int rf, Worker founder) {
        TreeMap<Long, Long> changed = new TreeMap<>();
        for (long t : founder.tokens()) {
            changed.put(t, 1L);
        }
        return new Topology(clusterId, 1, rf, List.of(founder), Electorate.of(founder.replica()), 1, changed, Retired.NONE);
    }

    public UUID clusterId() {
        return clusterId;
    }

    public long epoch() {
        return epoch;
    }

    /** The cluster's replication factor, as fixed at bootstrap. */
    public int rf() {
        return rf;
    }

    /** Replicas per key now: {@code min(rf, workers)}, the same on every node holding this epoch. */
    public int effectiveRf() {
        return Math.min(rf, workers.size());
    }

    public List<Worker> workers() {
        return workers;
    }

    public Optional<Worker> worker(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public boolean holds(Replica r) {
        Worker w = byName.get(r.name());
        return w != null && w.host().equals(r.host());
    }

    public Electorate electorate() {
        return electorate;
    }

    public long electorateChangedAt() {
        return electorateChangedAt;
    }

    public NavigableMap<Long, Long> changedAt() {
        return changedAt;
    }

    public TokenRing ring() {
        return ring;
    }

    /** The quorum systems this epoch retired: the barrier to pass before the next change. */
    public Retired retired() {
        return retired;
    }

    /** The epoch of the last placement change of the range holding {@code token}. */
    public long changedAt(long token) {
        Map.Entry<Long, Long> e = changedAt.ceilingEntry(token);
        return (e == null ? changedAt.firstEntry() : e).getValue();
    }

    /** The key with {@code token}: its natural replicas (ring order) and the epoch its range last moved. */
    public Placement placement(long token) {
        return new Placement(natural(token), changedAt(token));
    }

    private List<Replica> natural(long token) {
        List<Replica> out = new ArrayList<>(effectiveRf());
        for (String name : ring.replicas(token, effectiveRf())) {
            out.add(byName.get(name).replica());
        }
        return out;
    }

    /** Tokens for a new worker, balanced against this topology's ring (deterministic: the same on every node). */
    public List<Long> allocateTokens(String name, int count, long offset) {
        return TokenAllocator.allocate(ring, name, count, offset);
    }

    // ---- transformations ----------------------------------------------------------------------

    /** Adds {@code w} as a replica at the next epoch (ranges it takes get {@code changedAt} = that epoch). */
    public Topology join(Worker w) {
        Worker existing = byName.get(w.name());
        if (existing != null) {
            throw new TopologyChangeRefused(existing.host().equals(w.host())
                    ? "worker " + w.name() + " is already a member (epoch " + epoch + ")"
                    : "the name " + w.name() + " belongs to host " + existing.host() + " in the topology; a store with "
                    + "host id " + w.host() + " cannot join under it (replacing a worker is not built yet)");
        }
        for (Worker o : workers) {
            if (o.host().equals(w.host())) {
                throw new TopologyChangeRefused("host " + w.host() + " is already a member as " + o.name());
            }
        }
        List<Worker> next = new ArrayList<>(workers);
        next.add(w);
        Topology shape = new Topology(clusterId, epoch + 1, rf, next, electorate, electorateChangedAt, changedAt,
                Retired.NONE);
        Moves moves = moves(this, shape);
        return new Topology(clusterId, epoch + 1, rf, next, electorate, electorateChangedAt, moves.ranges(),
                new Retired(moves.retired(), null));
    }

    /** First step of adding {@code r} to the register's electorate: joint (old and old + r), at the next epoch. */
    public Topology beginElectorateChange(Replica r) {
        List<Replica> next = new ArrayList<>(electorate.current());
        next.add(r);
        return beginElectorateChange(next);
    }

    /**
     * First step of changing the register's electorate to {@code next}: joint (a majority of the current
     * set and a majority of {@code next}), at the next epoch; {@link #finishElectorateChange} is the second.
     */
    public Topology beginElectorateChange(List<Replica> next) {
        if (electorate.isJoint()) {
            throw new TopologyChangeRefused("the electorate is already changing: " + electorate);
        }
        for (Replica r : next) {
            if (!holds(r)) {
                throw new TopologyChangeRefused(r + " is not a worker of epoch " + epoch);
            }
        }
        if (new java.util.HashSet<>(next).equals(new java.util.HashSet<>(electorate.current()))) {
            throw new TopologyChangeRefused("the electorate already is " + next);
        }
        return new Topology(clusterId, epoch + 1, rf, workers, new Electorate(electorate.current(), next), epoch + 1,
                changedAt, new Retired(List.of(), electorate));
    }

    /** Second step: the new electorate alone, at the next epoch. */
    public Topology finishElectorateChange() {
        if (!electorate.isJoint()) {
            throw new TopologyChangeRefused("the electorate is not changing");
        }
        return new Topology(clusterId, epoch + 1, rf, workers, new Electorate(electorate.next(), List.of()), epoch + 1,
                changedAt, new Retired(List.of(), electorate));
    }

    /**
     * The electorate the register should move to, if any: while fewer than {@link #ELECTORATE_SIZE} workers
     * exist it stays as founded (growing to two would only add a second member whose loss stops the
     * register); from three workers on, the current members plus the first of {@code eligible} (workers
     * this node can reach, in name order) up to the size, in one joint step (a majority of the new three
     * survives the loss of any one, even during the change).
     */
    public Optional<List<Replica>> electorateTarget(java.util.function.Predicate<Replica> eligible) {
        if (electorate.isJoint() || workers.size() < ELECTORATE_SIZE || electorate.current().size() >= ELECTORATE_SIZE) {
            return Optional.empty();
        }
        List<Replica> next = new ArrayList<>(electorate.current());
        for (Worker w : workers) {
            if (next.size() < ELECTORATE_SIZE && !next.contains(w.replica()) && eligible.test(w.replica())) {
                next.add(w.replica());
            }
        }
        return next.size() == ELECTORATE_SIZE ? Optional.of(List.copyOf(next)) : Optional.empty();
    }

    /** The worker the electorate should grow by next (a worker not in it, by name), if it is below its size. */
    public Optional<Replica> electorateCandidate() {
        if (electorate.isJoint() || electorate.current().size() >= Math.min(ELECTORATE_SIZE, workers.size())) {
            return Optional.empty();
        }
        for (Worker w : workers) {
            if (!electorate.contains(w.replica())) {
                return Optional.of(w.replica());
            }
        }
        return Optional.empty();
    }

    /** What a change moved: the new range epochs, and the distinct old replica sets of the ranges that moved. */
    private record Moves(NavigableMap<Long, Long> ranges, List<List<String>> retired) {
    }

    /**
     * One pass over the elementary ranges of both rings (and of the old range map): a range whose natural
     * replica set differs between the two gets {@code next}'s epoch and retires its old set; the rest keep
     * their epochs. Neighbouring ranges with the same epoch are merged.
     */
    private static Moves moves(Topology old, Topology next) {
        TreeMap<Long, Long> out = new TreeMap<>();
        java.util.Set<List<String>> retired = new java.util.LinkedHashSet<>();
        for (long b : boundaries(old, next)) {
            // replicas, not names: a store that takes over a name is another acceptor
            boolean moved = !new HashSet<>(old.natural(b)).equals(new HashSet<>(next.natural(b)));
            out.put(b, moved ? next.epoch : old.changedAt(b));
            if (moved) {
                retired.add(List.copyOf(new TreeSet<>(old.placement(b).names())));
            }
        }
        // merge: the range ending at b joins the one after it when both carry the same epoch
        List<Long> keys = new ArrayList<>(out.keySet());
        for (int i = 0; i + 1 < keys.size(); i++) {
            if (out.get(keys.get(i)).equals(out.get(keys.get(i + 1)))) {
                out.remove(keys.get(i));
            }
        }
        return new Moves(out, List.copyOf(retired));
    }

    /**
     * The end tokens of the elementary ranges of both topologies: within each such range both rings give
     * one placement and both range maps one epoch.
     */
    static TreeSet<Long> boundaries(Topology a, Topology b) {
        TreeSet<Long> bounds = new TreeSet<>(a.changedAt.keySet());
        bounds.addAll(b.changedAt.keySet());
        for (int i = 0; i < a.ring.size(); i++) {
            bounds.add(a.ring.token(i));
        }
        for (int i = 0; i < b.ring.size(); i++) {
            bounds.add(b.ring.token(i));
        }
        return bounds;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Topology t && epoch == t.epoch && rf == t.rf && electorateChangedAt == t.electorateChangedAt
                && clusterId.equals(t.clusterId) && workers.equals(t.workers) && electorate.equals(t.electorate)
                && changedAt.equals(t.changedAt) && retired.equals(t.retired);
    }

    @Override
    public int hashCode() {
        return Objects.hash(clusterId, epoch, rf, workers, electorate, electorateChangedAt, changedAt, retired);
    }

    @Override
    public String toString() {
        return "Topology[epoch " + epoch + ", rf " + rf + ", workers " + byName.keySet() + ", electorate "
                + Electorate.names(electorate.current()) + (electorate.isJoint() ? " -> " + Electorate.names(electorate.next()) : "")
                + "]";
    }
}
