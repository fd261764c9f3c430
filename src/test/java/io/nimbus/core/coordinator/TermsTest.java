package io.nimbus.core.coordinator;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Proposal;
import io.nimbus.core.paxos.Proposer;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TermsTest {
    static final Ballot B = new Ballot(10, "n1");

    static Proposer.Term term(Ballot b, String value) {
        return new Proposer.Term(b, new Proposal(b, value.getBytes()));
    }

    @Test
    void aTermIsTakenOnceAndOnlyForItsEpoch() {
        Terms terms = new Terms(8);
        terms.put("k", 3, term(B, "v"));
        assertNull(terms.take("k", 4), "another epoch's route: not this term");
        assertNull(terms.take("k", 3), "and the look drops it");
        terms.put("k", 3, term(B, "v"));
        Proposer.Term t = terms.take("k", 3);
        assertNotNull(t);
        assertEquals(B, t.ballot());
        assertNull(terms.take("k", 3), "taken for a write: gone until that write puts one back");
    }

    @Test
    void valuesAreNotKeptOnlyWhatAPreconditionNeeds() {
        Terms terms = new Terms(8);
        terms.put("live", 1, term(B, "a large value"));
        terms.put("gone", 1, new Proposer.Term(B, Proposal.tombstone(B)));
        Proposal live = terms.take("live", 1).last();
        assertEquals(0, live.value().length);
        assertEquals(B, live.version());
        assertTrue(terms.take("gone", 1).last().isTombstone());
    }

    @Test
    void theLeastRecentlyUsedKeyGoesPastTheLimitAndZeroHoldsNothing() {
        Terms terms = new Terms(2);
        terms.put("a", 1, term(B, "v"));
        terms.put("b", 1, term(B, "v"));
        terms.put("c", 1, term(B, "v"));
        assertEquals(2, terms.size());
        assertNull(terms.take("a", 1));
        Terms none = new Terms(0);
        none.put("a", 1, term(B, "v"));
        assertEquals(0, none.size());
    }

    @Test
    void aTermIsDroppedWhenTheLocalReplicaPromisedAnotherBallot() {
        Map<String, Ballot> promised = new HashMap<>();
        Terms terms = new Terms(8, "n1", promised::get);
        terms.put("k", 1, term(B, "v"));
        promised.put("k", B);
        assertNotNull(terms.take("k", 1), "the local replica still promised the term's ballot");
        terms.put("k", 1, term(B, "v"));
        promised.put("k", new Ballot(11, "n2"));
        assertNull(terms.take("k", 1), "it promised a rival since: the term is stale");
        terms.put("k", 1, term(B, "v"));
        promised.remove("k");
        assertNotNull(terms.take("k", 1), "no local replica of the key: no hint, the replicas decide");
    }
}
