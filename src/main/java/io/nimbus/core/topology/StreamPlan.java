package io.nimbus.core.topology;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What the operation in progress must copy before its new replica sets may be used alone
 * (TOPOLOGY.md §7): for every range it moves, each pending replica (the receiver) pulls the range's
 * whole rows — committed value or tombstone, accepted proposal, promise — from sources chosen by the
 * source rule, and merges them ({@code KeyState.merge}). Never from "any one replica":
 *
 * <ul>
 *   <li><b>strict source</b>: the replica that leaves the range's set (a join's displaced replica, or
 *       the decommissioned worker), alone, when it answers — every value chosen on an old quorum is on a
 *       surviving old replica or on it;</li>
 *   <li>otherwise <b>every remaining old replica</b>, merged (with the leaving one missing they are a
 *       majority of the old set, so they meet every old quorum); a removal always uses this, since the
 *       removed worker is dead;</li>
 *   <li>when nobody leaves (the replication factor grows with the workers: 1→2, 2→3), <b>a majority of
 *       the old set</b>, merged.</li>
 * </ul>
 * When nobody enters (the set shrinks: a decommission or removal leaves fewer workers than the replication
 * factor), there is no pending replica, but each <b>remaining replica</b> receives: the leaving one's rows
 * (strict source), else every other remaining replica's, merged (TOPOLOGY.md §6, "do a sync before FINISH").
 * Quorums stay safe without it (every new quorum already meets an old one), but a write acknowledged at ONE
 * by the leaving replica alone, or chosen on it and one other, would be left on no or one store.
 * Pure: the same plan on every node holding the same topology.
 */
public record StreamPlan(long epoch, List<Transfer> transfers) {
    public StreamPlan {
        transfers = List.copyOf(transfers);
    }

    /** {@code needed} distinct replicas of {@code from} (by name) must each be copied completely. */
    public record Sources(List<String> from, int needed) {
        public Sources {
            from = List.copyOf(new TreeSet<>(from));
            if (needed < 1 || needed > from.size()) {
                throw new IllegalArgumentException("needs " + needed + " of " + from);
            }
        }

        @Override
        public String toString() {
            return needed == from.size() ? "all of " + from : needed + " of " + from;
        }
    }

    /**
     * One receiver's copy of some ranges: the first of {@code options} that can be completed is used
     * (the strict source, then the remaining old replicas).
     */
    public record Transfer(String receiver, List<TokenRange> ranges, List<Sources> options) {
        public Transfer {
            ranges = List.copyOf(ranges);
            options = List.copyOf(options);
        }

        public boolean covers(long token) {
            for (TokenRange r : ranges) {
                if (r.contains(token)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** The transfers {@code receiver} must make. */
    public List<Transfer> to(String receiver) {
        List<Transfer> out = new ArrayList<>();
        for (Transfer t : transfers) {
            if (t.receiver().equals(receiver)) {
                out.add(t);
            }
        }
        return out;
    }

    /** Every receiver of the plan, by name. */
    public List<String> receivers() {
        TreeSet<String> out = new TreeSet<>();
        for (Transfer t : transfers) {
            out.add(t.receiver());
        }
        return List.copyOf(out);
    }

    /** The plan of {@code t}'s operation in progress (empty if none). */
    public static StreamPlan of(Topology t) {
        Operation op = t.operation().orElse(null);
        if (op == null) {
            return new StreamPlan(t.epoch(), List.of());
        }
        // group ranges by (receiver, source options), in token order
        Map<String, List<TokenRange>> ranges = new LinkedHashMap<>();
        Map<String, Transfer> shape = new LinkedHashMap<>();
        TreeSet<Long> bounds = Topology.boundaries(t, t);
        long previous = bounds.last();
        for (long end : bounds) {
            TokenRange range = new TokenRange(previous, end);
            previous = end;
            Placement p = t.placement(end);
            if (!p.moving()) {
                continue;
            }
            List<String> old = p.names();
            List<String> leaving = new ArrayList<>();
            List<String> remaining = new ArrayList<>();
            for (Replica r : p.natural()) {
                (p.next().contains(r) ? remaining : leaving).add(r.name());
            }
            List<Sources> options = new ArrayList<>();
            if (op.kind() == Operation.Kind.REMOVE) {
                leaving.remove(op.node());
                if (!leaving.isEmpty()) {
                    throw new IllegalStateException(op + " also moves " + leaving + " out of range " + range);
                }
                if (!remaining.isEmpty()) {
                    options.add(new Sources(remaining, remaining.size()));
                }
            } else if (leaving.isEmpty()) {
                options.add(new Sources(old, old.size() / 2 + 1));
            } else {
                options.add(new Sources(leaving, leaving.size()));
                if (!remaining.isEmpty()) {
                    options.add(new Sources(remaining, remaining.size()));
                }
            }
            if (options.isEmpty()) {
                throw new IllegalStateException(op + ": range " + range + " of " + old + " has no replica left to copy from");
            }
            for (Replica receiver : p.pending()) {
                String id = receiver.name() + "|" + options;
                ranges.computeIfAbsent(id, k -> new ArrayList<>()).add(range);
                shape.putIfAbsent(id, new Transfer(receiver.name(), List.of(), options));
            }
            if (p.pending().isEmpty()) {
                // the set shrinks: the remaining replicas sync from the leaving one, else from each other
                for (String receiver : remaining) {
                    List<Sources> mine = new ArrayList<>();
                    if (!leaving.isEmpty()) {
                        mine.add(new Sources(leaving, leaving.size()));
                    }
                    List<String> others = new ArrayList<>(remaining);
                    others.remove(receiver);
                    if (!others.isEmpty()) {
                        mine.add(new Sources(others, others.size()));
                    }
                    if (mine.isEmpty()) {
                        continue; // a lone survivor of a removal: nobody to copy from
                    }
                    String id = receiver + "|" + mine;
                    ranges.computeIfAbsent(id, k -> new ArrayList<>()).add(range);
                    shape.putIfAbsent(id, new Transfer(receiver, List.of(), mine));
                }
            }
        }
        List<Transfer> out = new ArrayList<>();
        for (Map.Entry<String, Transfer> e : shape.entrySet()) {
            out.add(new Transfer(e.getValue().receiver(), ranges.get(e.getKey()), e.getValue().options()));
        }
        return new StreamPlan(t.epoch(), out);
    }

    /**
     * Range sync (anti-entropy, TOPOLOGY.md §8) for {@code me}: for every range where it is a natural
     * replica, the other natural replicas of the range as sources. The shell copies from each one it can
     * reach and learns only their committed values ({@code Acceptor.commit}: learn if newer, exactly what
     * a Paxos commit does), so a replica that missed writes during an outage catches up without a read.
     */
    public static StreamPlan sync(Topology t, String me) {
        Map<List<String>, List<TokenRange>> ranges = new LinkedHashMap<>();
        TreeSet<Long> bounds = Topology.boundaries(t, t);
        long previous = bounds.last();
        for (long end : bounds) {
            TokenRange range = new TokenRange(previous, end);
            previous = end;
            List<String> natural = t.placement(end).names();
            if (!natural.contains(me) || natural.size() < 2) {
                continue;
            }
            List<String> others = new ArrayList<>(new TreeSet<>(natural));
            others.remove(me);
            ranges.computeIfAbsent(others, k -> new ArrayList<>()).add(range);
        }
        List<Transfer> out = new ArrayList<>();
        for (Map.Entry<List<String>, List<TokenRange>> e : ranges.entrySet()) {
            out.add(new Transfer(me, e.getValue(), List.of(new Sources(e.getKey(), e.getKey().size()))));
        }
        return new StreamPlan(t.epoch(), out);
    }
}
