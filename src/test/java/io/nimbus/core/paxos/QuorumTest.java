package io.nimbus.core.paxos;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quorum predicates against a naive enumerator (etcd raft's quorum/quick_test habit): for every
 * subset of up to 6 replicas, and random old/new sets for joint quorums.
 */
class QuorumTest {
    static final List<String> NODES = List.of("a", "b", "c", "d", "e", "f");

    static List<Set<String>> subsets(List<String> of) {
        List<Set<String>> out = new ArrayList<>();
        for (int mask = 0; mask < 1 << of.size(); mask++) {
            Set<String> s = new TreeSet<>();
            for (int i = 0; i < of.size(); i++) {
                if ((mask & 1 << i) != 0) {
                    s.add(of.get(i));
                }
            }
            out.add(s);
        }
        return out;
    }

    static int count(Set<String> members, Set<String> yes) {
        return (int) yes.stream().filter(members::contains).count();
    }

    @Test
    void majorityAndAllAgreeWithCountingForEverySubset() {
        for (Set<String> members : subsets(NODES)) {
            if (members.isEmpty()) {
                continue;
            }
            Quorum maj = Quorum.majority(members);
            Quorum all = Quorum.all(members);
            for (Set<String> yes : subsets(NODES)) {
                assertEquals(count(members, yes) * 2 > members.size(), maj.satisfiedBy(yes), members + " / " + yes);
                assertEquals(count(members, yes) == members.size(), all.satisfiedBy(yes), members + " / " + yes);
            }
        }
    }

    @Test
    void jointIsBothMajoritiesAndBlockingSetsMeetEveryQuorum() {
        SplittableRandom r = new SplittableRandom(7);
        List<Set<String>> all = subsets(NODES);
        for (int i = 0; i < 300; i++) {
            Set<String> old = all.get(1 + r.nextInt(all.size() - 1));
            Set<String> next = all.get(1 + r.nextInt(all.size() - 1));
            Quorum joint = new Quorum.Joint(Quorum.majority(old), Quorum.majority(next));
            List<Set<String>> quorums = new ArrayList<>();
            for (Set<String> yes : all) {
                boolean naive = count(old, yes) * 2 > old.size() && count(next, yes) * 2 > next.size();
                assertEquals(naive, joint.satisfiedBy(yes), old + " -> " + next + " / " + yes);
                if (naive) {
                    quorums.add(yes);
                }
            }
            for (Set<String> k : all) {
                boolean naiveBlocking = quorums.stream().allMatch(q -> q.stream().anyMatch(k::contains));
                assertEquals(naiveBlocking, joint.blockedBy(k), "blocking " + k + " for " + old + " -> " + next);
            }
        }
    }

    @Test
    void theDesignExamples() {
        // old {A,B,C}, new {A,B,D}: {A,B} suffices, so C and D may both be down
        Quorum j = new Quorum.Joint(Quorum.majority(List.of("a", "b", "c")), Quorum.majority(List.of("a", "b", "d")));
        assertTrue(j.satisfiedBy(Set.of("a", "b")));
        assertTrue(j.satisfiedBy(Set.of("a", "c", "d")), "a and c are a majority of old, a and d of new");
        assertFalse(j.satisfiedBy(Set.of("c", "d")));
        assertEquals(Set.of("a", "b", "c", "d"), j.members());
        // growing the register's electorate from {a} to {a,b}: the joint quorum needs both
        Quorum grow = new Quorum.Joint(Quorum.majority(List.of("a")), Quorum.majority(List.of("a", "b")));
        assertFalse(grow.satisfiedBy(Set.of("a")));
        assertTrue(grow.satisfiedBy(Set.of("a", "b")));
        assertTrue(grow.blockedBy(Set.of("a")), "every joint quorum contains a");
    }

    @Test
    void satisfiableWithIsTheQuestionOfTheRepliesStillPossible() {
        Quorum q = Quorum.majority(List.of("a", "b", "c"));
        assertTrue(q.satisfiableWith(Set.of("a", "b")));
        assertFalse(q.satisfiableWith(Set.of("a", "x")), "x is not a member");
    }
}
