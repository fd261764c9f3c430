package io.nimbus.sim.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.PaxosMessage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Per-step safety checks on ghost state: what the simulator knows that no node does (every proposal's
 * origin and base, every acknowledgement sent).
 *
 * <p>Every proposal has an <em>origin</em> (the client operation whose value it carries; a re-proposal of
 * an in-flight value keeps the origin of the value it finishes) and a <em>base</em> (the committed ballot
 * its proposer judged the operation against; a re-proposal keeps the base of what it finishes). Its
 * <em>ancestry</em> is its origin plus its base's ancestry: the writes it was decided on top of. A proposal
 * is <em>chosen</em> once a majority of the key's replicas acknowledged accepting it (that is what a
 * proposer counts, and every later prepare at QUORUM or ALL meets one of them) — or, when the proposer
 * registers it with a quorum system (the key's placement at the proposer's epoch, joint while the key
 * moves), once a quorum of that system acknowledged it.
 *
 * <p>Checked on every event: no two values under one ballot; each acceptor's promise and committed ballot
 * never go down within an incarnation, and after a restart it still holds what it acknowledged; only
 * chosen proposals are committed; of any two chosen proposals, the higher one's ancestry contains the
 * lower one's origin (no chosen write is lost or forked around; note that a lower ballot can still become
 * chosen after a higher one, when the higher one re-proposes its value); a proposal of an attempt the proposer
 * restarted, or of an operation reported as failed, is never chosen. Violations are recorded (first per
 * {@link Check}) and the run goes on, so one run reports everything it found.
 */
public final class PaxosSafety {
    /**
     * A proposal's identity: its ballot and its version, in {@link Proposal#ORDER}. Under one ballot there is one
     * proposal per version: a write in its coordinator's term shares the term's ballot with the term's earlier
     * writes (docs/PAXOS.md "One round trip").
     */
    public record Id(Ballot ballot, Ballot version) implements Comparable<Id> {
        public static Id of(Proposal p) {
            return p == null ? null : new Id(p.ballot(), p.version());
        }

        @Override
        public int compareTo(Id o) {
            int c = ballot.compareTo(o.ballot);
            return c != 0 ? c : version.compareTo(o.version);
        }

        public String token() {
            return ballot.equals(version) ? ballot.token() : ballot.token() + "/v" + version.token();
        }
    }

    /** One proposal as sent: who it carries, what it was based on, and the origins of its whole chain. */
    record Info(Id id, int origin, Id base, byte[] value, Set<Integer> ancestry,
                io.nimbus.core.paxos.Quorum chosenBy) {
    }

    /** The highest registers an acceptor revealed in replies it sent, per key. */
    private static final class Revealed {
        Ballot promised;
        Id accepted;
        Id committed;
    }

    private final Supplier<String> where;
    private final Map<Check, String> first = new EnumMap<>(Check.class);
    private final Map<Check, Integer> counts = new EnumMap<>(Check.class);
    private final Map<String, Map<Id, Info>> proposals = new HashMap<>();
    /** Per key, the write (origin) each version names. */
    private final Map<String, Map<Ballot, Integer>> origins = new HashMap<>();
    private final Map<String, Map<Id, Set<String>>> accepts = new HashMap<>();
    private final Map<String, List<Info>> chosen = new HashMap<>();
    private final Map<String, Set<Id>> chosenIds = new HashMap<>();
    private final Map<String, Revealed> revealed = new HashMap<>();
    private final Map<String, Integer> majority = new HashMap<>();
    private final Set<Integer> failedOps = new HashSet<>();
    private final Map<String, Set<Id>> abandoned = new HashMap<>();

    public PaxosSafety(Supplier<String> where) {
        this.where = where;
    }

    public void key(String key, int replicationFactor) {
        majority.put(key, replicationFactor / 2 + 1);
    }

    // ---- results -------------------------------------------------------------------------------------

    public void violation(Check check, String message) {
        counts.merge(check, 1, Integer::sum);
        first.putIfAbsent(check, where.get() + ": " + message);
    }

    public Map<Check, String> violations() {
        return first;
    }

    public Map<Check, Integer> counts() {
        return counts;
    }

    /** The last proposal chosen on {@code key} so far, in {@link Proposal#ORDER} (null: none). */
    public Id highestChosen(String key) {
        Id out = null;
        for (Id b : chosenIds.getOrDefault(key, Set.of())) {
            out = max(out, b);
        }
        return out;
    }

    public int chosenCount() {
        return chosen.values().stream().mapToInt(List::size).sum();
    }

    /** The client operation whose write {@code version} on {@code key} names, or -1 if unknown. */
    int originOf(String key, Ballot version) {
        return origins.getOrDefault(key, Map.of()).getOrDefault(version, -1);
    }

    /** Writes whose value was chosen under more than one ballot (a re-proposal gave it a second version). */
    List<String> reversioned() {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<Info>> e : new TreeMap<>(chosen).entrySet()) {
            Map<Integer, List<String>> byOrigin = new TreeMap<>();
            for (Info i : e.getValue()) {
                byOrigin.computeIfAbsent(i.origin(), o -> new ArrayList<>()).add(i.id().token());
            }
            byOrigin.forEach((origin, ballots) -> {
                if (ballots.size() > 1) {
                    out.add(e.getKey() + ": op #" + origin + " chosen as " + ballots);
                }
            });
        }
        return out;
    }

    // ---- proposals -----------------------------------------------------------------------------------

    /**
     * A proposer sends its operation's own value, judged against the commit {@code base} (null: none; a write in a
     * term: the term's last write, which may stand in for that commit without its value).
     */
    public void proposed(String key, Proposal p, int origin, Proposal base) {
        proposed(key, p, origin, base, null);
    }

    /** As {@link #proposed(String, Proposal, int, Proposal)}, chosen once {@code chosenBy} is satisfied (null: a majority). */
    public void proposed(String key, Proposal p, int origin, Proposal base, io.nimbus.core.paxos.Quorum chosenBy) {
        Set<Integer> ancestry = new HashSet<>();
        ancestry.add(origin);
        Id baseId = Id.of(base);
        if (baseId != null) {
            Info b = info(key, baseId);
            if (b == null) {
                violation(Check.EXCEPTION, "harness: proposal " + Id.of(p).token() + " is based on unknown " + baseId.token());
            } else {
                ancestry.addAll(b.ancestry());
            }
        }
        Integer named = origins.computeIfAbsent(key, k -> new HashMap<>()).putIfAbsent(p.version(), origin);
        if (named != null) {
            violation(Check.AGREEMENT, "version " + p.version().token() + " on " + key + " names two writes (ops #"
                    + named + " and #" + origin + ")");
        }
        register(key, new Info(Id.of(p), origin, baseId, p.value(), ancestry, chosenBy));
    }

    /** A proposer re-proposes the in-flight proposal {@code inFlight} under its own ballot. */
    public void reproposed(String key, Proposal p, Proposal inFlight) {
        reproposed(key, p, inFlight, null);
    }

    /** As {@link #reproposed(String, Proposal, Proposal)}, chosen once {@code chosenBy} is satisfied (null: a majority). */
    public void reproposed(String key, Proposal p, Proposal inFlight, io.nimbus.core.paxos.Quorum chosenBy) {
        Info src = info(key, Id.of(inFlight));
        if (src == null) {
            violation(Check.EXCEPTION, "harness: re-proposal " + Id.of(p).token() + " of unknown " + Id.of(inFlight).token());
            return;
        }
        register(key, new Info(Id.of(p), src.origin(), src.base(), p.value(), src.ancestry(), chosenBy));
    }

    private void register(String key, Info info) {
        Info before = proposals.computeIfAbsent(key, k -> new HashMap<>()).putIfAbsent(info.id(), info);
        if (before != null) {
            violation(Check.AGREEMENT, "ballot " + info.id().token() + " on " + key + " proposed twice (ops #"
                    + before.origin() + " and #" + info.origin() + ")");
        }
    }

    private Info info(String key, Id id) {
        return proposals.getOrDefault(key, Map.of()).get(id);
    }

    // ---- acceptor events ------------------------------------------------------------------------------

    /** Replica {@code replica} moved {@code key} from {@code before} to {@code after} (not yet durable). */
    public void transition(String replica, String key, KeyState before, KeyState after) {
        if (before.promised() != null && (after.promised() == null || after.promised().compareTo(before.promised()) < 0)) {
            violation(Check.REGISTERS, replica + " " + key + ": promise went down from " + before.promised().token());
        }
        Id c0 = Id.of(before.committed());
        Id c1 = Id.of(after.committed());
        if (c0 != null && (c1 == null || c1.compareTo(c0) < 0)) {
            violation(Check.REGISTERS, replica + " " + key + ": committed went down from " + c0.token());
        }
        if (after.committed() != null && !after.committed().equals(before.committed())) {
            sameValue(key, after.committed(), replica + " committed");
            if (!chosenIds.getOrDefault(key, Set.of()).contains(c1)) {
                violation(Check.AGREEMENT, replica + " " + key + ": committed " + c1.token() + " which was never chosen");
            }
        }
        if (after.accepted() != null && !after.accepted().equals(before.accepted())) {
            sameValue(key, after.accepted(), replica + " accepted");
        }
    }

    private void sameValue(String key, Proposal p, String what) {
        Info i = info(key, Id.of(p));
        if (i == null) {
            violation(Check.AGREEMENT, what + " " + Id.of(p).token() + " on " + key + " that nobody proposed");
        } else if (!Arrays.equals(i.value(), p.value())) {
            violation(Check.AGREEMENT, what + " " + Id.of(p).token() + " on " + key + " with another value than proposed");
        }
    }

    /** Replica {@code replica} sent {@code reply} to {@code request} (the proposer may count it from now on). */
    public void replied(String replica, PaxosMessage.Request request, PaxosMessage reply) {
        String key = request.key();
        Revealed r = revealed.computeIfAbsent(replica + "/" + key, x -> new Revealed());
        if (reply instanceof PaxosMessage.Promised p) {
            r.promised = max(r.promised, p.ballot());
            r.accepted = max(r.accepted, Id.of(p.accepted()));
            r.committed = max(r.committed, Id.of(p.committed()));
        } else if (reply instanceof PaxosMessage.Rejected rj) {
            r.promised = max(r.promised, rj.promised());
        } else if (reply instanceof PaxosMessage.Accepted a && request instanceof PaxosMessage.Propose pr) {
            r.promised = max(r.promised, a.ballot());
            r.accepted = max(r.accepted, Id.of(pr.proposal()));
            accepted(key, pr.proposal(), replica);
        } else if (reply instanceof PaxosMessage.Committed && request instanceof PaxosMessage.Commit c) {
            r.committed = max(r.committed, Id.of(c.proposal()));
        } else if (reply instanceof PaxosMessage.State st) {
            // a read of the registers: the proposer counts what they show, so they must survive a restart too
            r.promised = max(r.promised, st.state().promised());
            r.accepted = max(r.accepted, Id.of(st.state().accepted()));
            r.committed = max(r.committed, Id.of(st.state().committed()));
        }
    }

    private void accepted(String key, Proposal p, String replica) {
        Id id = Id.of(p);
        Set<String> who = accepts.computeIfAbsent(key, k -> new HashMap<>()).computeIfAbsent(id, b -> new TreeSet<>());
        if (abandoned.getOrDefault(key, Set.of()).contains(id)) {
            violation(Check.PROPOSER, replica + " accepted " + id.token() + " on " + key
                    + " after its proposer restarted that attempt as 'nothing written'");
        }
        Info i = info(key, id);
        boolean before = isQuorum(key, i, who);
        if (who.add(replica) && !before && isQuorum(key, i, who)) {
            chosen(key, id);
        }
    }

    private boolean isQuorum(String key, Info i, Set<String> who) {
        return i != null && i.chosenBy() != null ? i.chosenBy().satisfiedBy(who) : who.size() >= majority.get(key);
    }

    private void chosen(String key, Id b) {
        Info ib = info(key, b);
        if (ib == null) {
            violation(Check.AGREEMENT, key + ": chosen " + b.token() + " that nobody proposed");
            return;
        }
        for (Info ic : chosen.getOrDefault(key, List.of())) {
            Info lo = ic.id().compareTo(b) < 0 ? ic : ib;
            Info hi = lo == ic ? ib : ic;
            if (lo.origin() != hi.origin() && !hi.ancestry().contains(lo.origin())) {
                violation(Check.AGREEMENT, key + ": op #" + lo.origin() + "'s value was chosen at " + lo.id().token()
                        + ", yet op #" + hi.origin() + "'s value was chosen at the higher " + hi.id().token()
                        + " on top of " + (hi.base() == null ? "nothing" : hi.base().token())
                        + " without it (a chosen write was lost)");
            }
        }
        if (failedOps.contains(ib.origin())) {
            violation(Check.PROPOSER, key + ": op #" + ib.origin() + " was reported failed (not applied) but its value was chosen at "
                    + b.token());
        }
        chosen.computeIfAbsent(key, k -> new ArrayList<>()).add(ib);
        chosenIds.computeIfAbsent(key, k -> new HashSet<>()).add(b);
    }

    /**
     * {@code replica}'s row of {@code key} was deleted by a cleanup (it no longer replicates the key: whether it
     * may is checked by the caller): what it acknowledged on the key is no longer expected of it at a restart.
     */
    public void forgotten(String replica, String key) {
        revealed.remove(replica + "/" + key);
    }

    /** {@code replica}'s store was wiped and it runs as a new acceptor (a new host id): nothing it acknowledged is expected of it. */
    public void forgotten(String replica) {
        revealed.keySet().removeIf(k -> k.startsWith(replica + "/"));
    }

    /** After a restart: the acceptor must still hold everything it acknowledged before the crash. */
    public void restarted(String replica, Map<String, KeyState> restored) {
        for (Map.Entry<String, Revealed> e : revealed.entrySet()) {
            if (!e.getKey().startsWith(replica + "/")) {
                continue;
            }
            String key = e.getKey().substring(replica.length() + 1);
            KeyState s = restored.getOrDefault(key, KeyState.EMPTY);
            Revealed r = e.getValue();
            if (below(s.promised(), r.promised)) {
                violation(Check.DURABILITY, replica + " " + key + " restarted with promise "
                        + (s.promised() == null ? "none" : s.promised().token()) + " after promising " + r.promised.token());
            }
            if (below(Id.of(s.accepted()), r.accepted)) {
                violation(Check.DURABILITY, replica + " " + key + " restarted without its acknowledged accept " + r.accepted.token());
            }
            if (below(Id.of(s.committed()), r.committed)) {
                violation(Check.DURABILITY, replica + " " + key + " restarted without its acknowledged commit " + r.committed.token());
            }
        }
    }

    // ---- proposer and client events -------------------------------------------------------------------

    /** The proposer restarted the attempt that proposed {@code proposal}: it says nothing was written. */
    public void abandoned(String key, Proposal proposal) {
        Id id = Id.of(proposal);
        abandoned.computeIfAbsent(key, k -> new HashSet<>()).add(id);
        Set<String> who = accepts.getOrDefault(key, Map.of()).get(id);
        if (who != null && !who.isEmpty()) {
            violation(Check.PROPOSER, key + ": attempt " + id.token() + " restarted as 'nothing written' but "
                    + who + " accepted it");
        }
    }

    /** Operation {@code op} (a write) was reported to its client as failed: it must never take effect. */
    public void failed(String key, int op) {
        failedOps.add(op);
        for (Info i : chosen.getOrDefault(key, List.of())) {
            if (i.origin() == op) {
                violation(Check.PROPOSER, key + ": op #" + op + " reported failed (not applied) but its value was chosen at "
                        + i.id().token());
            }
        }
    }

    private static <T extends Comparable<T>> T max(T a, T b) {
        return a == null ? b : b == null ? a : a.compareTo(b) >= 0 ? a : b;
    }

    private static <T extends Comparable<T>> boolean below(T have, T needed) {
        return needed != null && (have == null || have.compareTo(needed) < 0);
    }
}
