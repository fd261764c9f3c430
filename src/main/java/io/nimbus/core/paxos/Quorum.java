package io.nimbus.core.paxos;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which sets of replicas are enough for one phase of a round: a predicate over the replicas that said
 * yes. Every quorum is monotone (a superset of a quorum is a quorum), which is what makes
 * {@link #satisfiableWith} and {@link #blockedBy} simple.
 *
 * <ul>
 *   <li>{@link Majority}: more than half of a set (QUORUM).</li>
 *   <li>{@link All}: every member (ALL).</li>
 *   <li>{@link Joint}: a quorum of the old set <em>and</em> a quorum of the new one, as in Raft's joint
 *       consensus: used while a replica set changes, so a decision made under either neighbour
 *       configuration is seen.</li>
 * </ul>
 */
public sealed interface Quorum {

    /** Every replica that may take part (the union for {@link Joint}). */
    Set<String> members();

    /** Do the replicas in {@code yes} form a quorum? Replicas that are not members are ignored. */
    boolean satisfiedBy(Set<String> yes);

    /** Can a quorum still be formed when at most {@code possible} will ever say yes? */
    default boolean satisfiableWith(Set<String> possible) {
        return satisfiedBy(possible);
    }

    /**
     * Does every quorum contain a member of {@code k}? (k is a "blocking set": if all of k refuse, no
     * quorum can form.) For a monotone predicate that is: the members outside k are not a quorum.
     */
    default boolean blockedBy(Set<String> k) {
        Set<String> rest = new TreeSet<>(members());
        rest.removeAll(k);
        return !satisfiedBy(rest);
    }

    /** A short text for messages: {@code "majority of [a, b, c]"}. */
    String describe();

    static Quorum majority(Collection<String> members) {
        return new Majority(Set.copyOf(members));
    }

    static Quorum all(Collection<String> members) {
        return new All(Set.copyOf(members));
    }

    record Majority(Set<String> members) implements Quorum {
        public Majority {
            members = Set.copyOf(members);
            if (members.isEmpty()) {
                throw new IllegalArgumentException("a majority of nobody");
            }
        }

        @Override
        public boolean satisfiedBy(Set<String> yes) {
            return count(members, yes) > members.size() / 2;
        }

        @Override
        public String describe() {
            return "a majority (" + (members.size() / 2 + 1) + ") of " + sorted(members);
        }
    }

    record All(Set<String> members) implements Quorum {
        public All {
            members = Set.copyOf(members);
            if (members.isEmpty()) {
                throw new IllegalArgumentException("all of nobody");
            }
        }

        @Override
        public boolean satisfiedBy(Set<String> yes) {
            return count(members, yes) == members.size();
        }

        @Override
        public String describe() {
            return "all of " + sorted(members);
        }
    }

    record Joint(Quorum old, Quorum next) implements Quorum {
        @Override
        public Set<String> members() {
            Set<String> all = new TreeSet<>(old.members());
            all.addAll(next.members());
            return all;
        }

        @Override
        public boolean satisfiedBy(Set<String> yes) {
            return old.satisfiedBy(yes) && next.satisfiedBy(yes);
        }

        @Override
        public String describe() {
            return old.describe() + " and " + next.describe();
        }
    }

    private static int count(Set<String> members, Set<String> yes) {
        int n = 0;
        for (String m : yes) {
            if (members.contains(m)) {
                n++;
            }
        }
        return n;
    }

    private static List<String> sorted(Set<String> s) {
        return List.copyOf(new TreeSet<>(s));
    }
}
