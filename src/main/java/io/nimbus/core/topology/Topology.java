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
    /** The operation in progress (null: none), and the workers and ring as they will be when it finishes. */
    private final Operation op;
    private final List<Worker> targetWorkers;
    private final TokenRing targetRing;
    private final Map<String, Worker> targetByName;
    /** Stores that left the cluster (decommissioned, removed, or an aborted joiner): never members again. */
    private final List<HostId> departed;

    public Topology(UUID clusterId, long epoch, int rf, List<Worker> workers, Electorate electorate,
                    long electorateChangedAt, NavigableMap<Long, Long> changedAt, Retired retired) {
        this(clusterId, epoch, rf, workers, electorate, electorateChangedAt, changedAt, retired, null, List.of());
    }

    public Topology(UUID clusterId, long epoch, int rf, List<Worker> workers, Electorate electorate,
                    long electorateChangedAt, NavigableMap<Long, Long> changedAt, Retired retired, Operation op,
                    List<HostId> departed) {
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
        this.departed = List.copyOf(departed);
        for (HostId h : this.departed) {
            if (hosts.contains(h)) {
                throw new IllegalArgumentException("host " + h + " departed but is a worker");
            }
        }
        this.op = op;
        List<Worker> target = new ArrayList<>(this.workers);
        if (op != null) {
            if (op.kind() == Operation.Kind.JOIN) {
                Worker w = op.incoming();
                if (names.containsKey(w.name()) || hosts.contains(w.host()) || this.departed.contains(w.host())) {
                    throw new IllegalArgumentException("joining worker " + w.name() + " is already known");
                }
                for (long t : w.tokens()) {
                    if (allTokens.contains(t)) {
                        throw new IllegalArgumentException("token " + t + " of joining worker " + w.name() + " is claimed");
                    }
                }
                target.add(w);
                target.sort(Comparator.comparing(Worker::name));
            } else {
                if (!names.containsKey(op.node())) {
                    throw new IllegalArgumentException(op + ": " + op.node() + " is not a worker");
                }
                if (this.workers.size() < 2) {
                    throw new IllegalArgumentException(op + ": the last worker cannot go");
                }
                target.removeIf(w -> w.name().equals(op.node()));
            }
        }
        this.targetWorkers = List.copyOf(target);
        Map<String, Worker> targetNames = new LinkedHashMap<>(names);
        Map<String, List<Long>> targetTokens = new TreeMap<>();
        for (Worker w : targetWorkers) {
            targetNames.put(w.name(), w);
            targetTokens.put(w.name(), w.tokens());
        }
        this.targetByName = Collections.unmodifiableMap(targetNames);
        this.targetRing = op == null ? ring : TokenRing.of(epoch, targetTokens);
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

    /** A worker by name: a member, or the joining worker of the operation in progress. */
    public Optional<Worker> worker(String name) {
        Worker w = byName.get(name);
        return Optional.ofNullable(w != null ? w : targetByName.get(name));
    }

    /** The member whose store is {@code host}, if any (host ids are unique among the members). */
    public Optional<Worker> workerWithHost(HostId host) {
        for (Worker w : workers) {
            if (w.host().equals(host)) {
                return Optional.of(w);
            }
        }
        return Optional.empty();
    }

    /** The operation in progress, if any. */
    public Optional<Operation> operation() {
        return Optional.ofNullable(op);
    }

    /** The workers as they will be when the operation in progress finishes (the members when none is). */
    public List<Worker> targetWorkers() {
        return targetWorkers;
    }

    /** Stores that left the cluster for good: they never join again under that host id. */
    public List<HostId> departed() {
        return departed;
    }

    /** A worker's state: JOINING, LEAVING or REMOVING while the operation moves it, NORMAL otherwise. */
    public String status(String name) {
        if (op != null && op.node().equals(name)) {
            return switch (op.kind()) {
                case JOIN -> "JOINING";
                case LEAVE -> "LEAVING";
                case REMOVE -> "REMOVING";
            };
        }
        return byName.containsKey(name) ? "NORMAL" : "UNKNOWN";
    }

    /** True for the store joining under the operation in progress (pending, not yet a member). */
    public boolean isJoining(Replica r) {
        return op != null && op.kind() == Operation.Kind.JOIN && op.incoming().replica().equals(r);
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

    /**
     * The key with {@code token}: its natural replicas (ring order), the replicas it will have when the
     * operation in progress finishes, and the epoch its range last moved. While an operation moves the
     * range, the replicas in the new set only are pending: they receive every write and count only toward
     * the new set's majority (TOPOLOGY.md §4).
     */
    public Placement placement(long token) {
        List<Replica> natural = natural(token);
        return new Placement(natural, op == null ? natural : next(token), changedAt(token));
    }

    /** The replicas of {@code token} once the operation in progress finishes. */
    private List<Replica> next(long token) {
        int n = Math.min(rf, targetWorkers.size());
        List<Replica> out = new ArrayList<>(n);
        for (String name : targetRing.replicas(token, n)) {
            out.add(targetByName.get(name).replica());
        }
        return out;
    }

    private List<Replica> natural(long token) {
        List<Replica> out = new ArrayList<>(effectiveRf());
        for (String name : ring.replicas(token, effectiveRf())) {
            out.add(byName.get(name).replica());
        }
        return out;
    }

    /**
     * Cleanup's decision for one row of {@code me} (TOPOLOGY.md §8), taken on the writer thread against the
     * topology held then: drop it only with no operation in progress, when no request newer than this epoch
     * has reached the store ({@code newestRequestEpoch}: it may already be a pending replica of a range it
     * does not know it has), and when {@code me} is neither a natural nor a pending replica of the key.
     */
    public boolean mayDropRow(String me, long token, long newestRequestEpoch) {
        return op == null && epoch >= newestRequestEpoch && !placement(token).includes(me);
    }

    /** Tokens for a new worker, balanced against this topology's ring (deterministic: the same on every node). */
    public List<Long> allocateTokens(String name, int count, long offset) {
        return TokenAllocator.allocate(ring, name, count, offset);
    }

    // ---- transformations ----------------------------------------------------------------------

    /**
     * START of a join (TOPOLOGY.md §5): {@code w} becomes pending for the ranges it will take, at the next
     * epoch; those ranges get {@code changedAt} = that epoch and retire their old majorities (the barrier
     * before the next change fences coordinators that still use them).
     */
    public Topology startJoin(Worker w) {
        requireNoOperation("join " + w.name());
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
        if (departed.contains(w.host())) {
            throw new TopologyChangeRefused("host " + w.host() + " left this cluster; its store must be wiped to join again");
        }
        return start(new Operation(Operation.Kind.JOIN, w.name(), w, w.name()));
    }

    /**
     * START of a decommission: {@code name} (alive, the driver) hands its ranges to the next workers
     * clockwise. If it is an acceptor of the topology register, the electorate changes in the same epochs
     * (joint now, without it at FINISH), replaced by the first other worker {@code eligible} accepts.
     */
    public Topology startLeave(String name, java.util.function.Predicate<Replica> eligible) {
        return startDeparture(Operation.Kind.LEAVE, name, name, eligible);
    }

    /** START of a removal of the dead worker {@code name}, driven by {@code driver}; the electorate as for a leave. */
    public Topology startRemove(String name, String driver, java.util.function.Predicate<Replica> eligible) {
        return startDeparture(Operation.Kind.REMOVE, name, driver, eligible);
    }

    private Topology startDeparture(Operation.Kind kind, String name, String driver,
                                    java.util.function.Predicate<Replica> eligible) {
        requireNoOperation(kind.name().toLowerCase() + " " + name);
        Worker w = byName.get(name);
        if (w == null) {
            throw new TopologyChangeRefused(name + " is not a worker of epoch " + epoch);
        }
        if (workers.size() < 2) {
            throw new TopologyChangeRefused(name + " is the last worker: a cluster cannot lose its last worker");
        }
        if (!byName.containsKey(driver) || (kind == Operation.Kind.REMOVE && driver.equals(name))) {
            throw new TopologyChangeRefused("the driver " + driver + " is not another worker of epoch " + epoch);
        }
        if (electorate.isJoint()) {
            throw new TopologyChangeRefused("the topology register's electorate is changing: " + electorate);
        }
        Electorate el = electorateWithout(name, r -> !r.name().equals(name) && eligible.test(r))
                .map(next -> new Electorate(electorate.current(), next)).orElse(electorate);
        return start(new Operation(kind, name, null, driver), el);
    }

    private Topology start(Operation o) {
        return start(o, electorate);
    }

    private Topology start(Operation o, Electorate el) {
        long elAt = el.equals(electorate) ? electorateChangedAt : epoch + 1;
        Topology shape = new Topology(clusterId, epoch + 1, rf, workers, el, elAt, changedAt, Retired.NONE, o, departed);
        Moves moves = moves(this, shape, this::natural, shape::next, true);
        if (moves.retired().isEmpty()) {
            throw new TopologyChangeRefused(o + " would move no range");
        }
        return new Topology(clusterId, epoch + 1, rf, workers, el, elAt, moves.ranges(),
                new Retired(moves.retired(), el.equals(electorate) ? null : electorate), o, departed);
    }

    /** The electorate after the operation ends: a joint one settles on its new set ({@code finish}) or its old one. */
    private Electorate settled(boolean finish) {
        return !electorate.isJoint() ? electorate : new Electorate(finish ? electorate.next() : electorate.current(), List.of());
    }

    /**
     * FINISH: the operation's new replica sets become natural at the next epoch (its ranges get that
     * {@code changedAt}); the leaving or removed worker departs. Retires the new sets' majorities: every
     * joint quorum of the START epoch contains one, so once a blocking set of them holds this epoch, no
     * START-epoch request can gather a quorum.
     */
    public Topology finish() {
        Operation o = operation().orElseThrow(() -> new TopologyChangeRefused("no operation is in progress at epoch " + epoch));
        List<HostId> gone = new ArrayList<>(departed);
        if (o.kind() != Operation.Kind.JOIN) {
            gone.add(byName.get(o.node()).host());
        }
        return end(targetWorkers, settled(true), gone, this::natural);
    }

    /**
     * Abort: the operation's ranges go back to their old replica sets at the next epoch. An aborted joiner
     * departs (its store may hold partial rows and promises of ranges it never owned: it must be wiped to
     * try again); an aborted leave or removal leaves the worker a normal member.
     */
    public Topology abort() {
        Operation o = operation().orElseThrow(() -> new TopologyChangeRefused("no operation is in progress at epoch " + epoch));
        List<HostId> gone = new ArrayList<>(departed);
        if (o.kind() == Operation.Kind.JOIN) {
            gone.add(o.incoming().host());
        }
        return end(workers, settled(false), gone, this::next);
    }

    /** The epoch after FINISH or abort: {@code members}, no operation; ranges whose set changes retire their new majorities. */
    private Topology end(List<Worker> members, Electorate el, List<HostId> gone,
                         java.util.function.LongFunction<List<Replica>> before) {
        long elAt = el.equals(electorate) ? electorateChangedAt : epoch + 1;
        Topology shape = new Topology(clusterId, epoch + 1, rf, members, el, elAt, changedAt, Retired.NONE, null, gone);
        Moves moves = moves(this, shape, before, shape::natural, false);
        return new Topology(clusterId, epoch + 1, rf, members, el, elAt, moves.ranges(),
                new Retired(moves.retired(), el.equals(electorate) ? null : electorate), null, gone);
    }

    private void requireNoOperation(String what) {
        if (op != null) {
            throw new TopologyChangeRefused("cannot " + what + ": " + op + " is in progress at epoch " + epoch
                    + " (one topology operation at a time; abort it or wait for it to finish)");
        }
    }

    /**
     * The electorate without {@code name}: the current members but that worker, plus the first worker
     * (by name) that {@code eligible} accepts, to keep the size. Empty if {@code name} is not a member.
     */
    public Optional<List<Replica>> electorateWithout(String name, java.util.function.Predicate<Replica> eligible) {
        Worker gone = byName.get(name);
        if (gone == null || !electorate.contains(gone.replica()) || electorate.isJoint()) {
            return Optional.empty();
        }
        List<Replica> next = new ArrayList<>(electorate.current());
        next.remove(gone.replica());
        for (Worker w : workers) {
            if (next.size() < electorate.current().size() && !w.name().equals(name) && !next.contains(w.replica())
                    && eligible.test(w.replica())) {
                next.add(w.replica());
            }
        }
        if (next.isEmpty()) {
            throw new TopologyChangeRefused(name + " is the topology register's only acceptor and no other worker can take over");
        }
        return Optional.of(List.copyOf(next));
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
        requireNoOperation("change the electorate");
        for (Replica r : next) {
            if (!holds(r)) {
                throw new TopologyChangeRefused(r + " is not a worker of epoch " + epoch);
            }
        }
        if (new java.util.HashSet<>(next).equals(new java.util.HashSet<>(electorate.current()))) {
            throw new TopologyChangeRefused("the electorate already is " + next);
        }
        return new Topology(clusterId, epoch + 1, rf, workers, new Electorate(electorate.current(), next), epoch + 1,
                changedAt, new Retired(List.of(), electorate), null, departed);
    }

    /** Second step: the new electorate alone, at the next epoch. */
    public Topology finishElectorateChange() {
        if (!electorate.isJoint()) {
            throw new TopologyChangeRefused("the electorate is not changing");
        }
        return new Topology(clusterId, epoch + 1, rf, workers, new Electorate(electorate.next(), List.of()), epoch + 1,
                changedAt, new Retired(List.of(), electorate), op, departed);
    }

    /**
     * The electorate the register should move to, if any: while fewer than {@link #ELECTORATE_SIZE} workers
     * exist it stays as founded (growing to two would only add a second member whose loss stops the
     * register); from three workers on, the current members plus the first of {@code eligible} (workers
     * this node can reach, in name order) up to the size, in one joint step (a majority of the new three
     * survives the loss of any one, even during the change).
     */
    public Optional<List<Replica>> electorateTarget(java.util.function.Predicate<Replica> eligible) {
        if (op != null || electorate.isJoint() || workers.size() < ELECTORATE_SIZE
                || electorate.current().size() >= ELECTORATE_SIZE) {
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
        if (op != null || electorate.isJoint() || electorate.current().size() >= Math.min(ELECTORATE_SIZE, workers.size())) {
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
    private static Moves moves(Topology old, Topology next, java.util.function.LongFunction<List<Replica>> before,
                               java.util.function.LongFunction<List<Replica>> after, boolean retireBefore) {
        TreeMap<Long, Long> out = new TreeMap<>();
        java.util.Set<List<String>> retired = new java.util.LinkedHashSet<>();
        for (long b : boundaries(old, next)) {
            // replicas, not names: a store that takes over a name is another acceptor
            List<Replica> was = before.apply(b);
            List<Replica> will = after.apply(b);
            boolean moved = !new HashSet<>(was).equals(new HashSet<>(will));
            out.put(b, moved ? next.epoch : old.changedAt(b));
            if (moved) {
                List<String> names = new ArrayList<>();
                for (Replica r : retireBefore ? was : will) {
                    names.add(r.name());
                }
                retired.add(List.copyOf(new TreeSet<>(names)));
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
    public static TreeSet<Long> boundaries(Topology a, Topology b) {
        TreeSet<Long> bounds = new TreeSet<>(a.changedAt.keySet());
        bounds.addAll(b.changedAt.keySet());
        for (int i = 0; i < a.ring.size(); i++) {
            bounds.add(a.ring.token(i));
        }
        for (int i = 0; i < b.ring.size(); i++) {
            bounds.add(b.ring.token(i));
        }
        for (TokenRing r : List.of(a.targetRing, b.targetRing)) {
            for (int i = 0; i < r.size(); i++) {
                bounds.add(r.token(i));
            }
        }
        return bounds;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Topology t && epoch == t.epoch && rf == t.rf && electorateChangedAt == t.electorateChangedAt
                && clusterId.equals(t.clusterId) && workers.equals(t.workers) && electorate.equals(t.electorate)
                && changedAt.equals(t.changedAt) && retired.equals(t.retired) && Objects.equals(op, t.op)
                && departed.equals(t.departed);
    }

    @Override
    public int hashCode() {
        return Objects.hash(clusterId, epoch, rf, workers, electorate, electorateChangedAt, changedAt, retired, op, departed);
    }

    @Override
    public String toString() {
        return "Topology[epoch " + epoch + ", rf " + rf + ", workers " + byName.keySet() + ", electorate "
                + Electorate.names(electorate.current()) + (electorate.isJoint() ? " -> " + Electorate.names(electorate.next()) : "")
                + (op == null ? "" : ", " + op) + "]";
    }
}
