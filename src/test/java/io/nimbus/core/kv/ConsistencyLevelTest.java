package io.nimbus.core.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsistencyLevelTest {

    /** Independent definition of a majority: the smallest n such that 2n > rf, found by search. */
    private static int smallestMajority(int rf) {
        int n = 0;
        while (2 * n <= rf) {
            n++;
        }
        return n;
    }

    @Test
    void requiredMatchesIndependentDefinitionForRf1To7() {
        for (int rf = 1; rf <= 7; rf++) {
            assertEquals(1, ConsistencyLevel.ONE.required(rf), "ONE at rf=" + rf);
            assertEquals(smallestMajority(rf), ConsistencyLevel.QUORUM.required(rf), "QUORUM at rf=" + rf);
            assertEquals(rf, ConsistencyLevel.ALL.required(rf), "ALL at rf=" + rf);
        }
    }

    @Test
    void quorumTableSpelledOut() {
        int[] expected = {0, 1, 2, 2, 3, 3, 4, 4}; // index = rf
        for (int rf = 1; rf <= 7; rf++) {
            assertEquals(expected[rf], ConsistencyLevel.QUORUM.required(rf), "rf=" + rf);
        }
    }

    @Test
    void anyTwoQuorumsIntersect() {
        for (int rf = 1; rf <= 7; rf++) {
            int q = ConsistencyLevel.QUORUM.required(rf);
            assertTrue(2 * q > rf, "two quorums of " + q + " out of " + rf + " could be disjoint");
            assertTrue(q <= rf, "quorum " + q + " larger than rf " + rf);
            // and it is the smallest such size: one fewer would allow disjoint quorums
            assertTrue(2 * (q - 1) <= rf, "quorum " + q + " at rf " + rf + " is larger than needed");
        }
    }

    @Test
    void levelsAreOrderedAndWithinRf() {
        for (int rf = 1; rf <= 7; rf++) {
            int one = ConsistencyLevel.ONE.required(rf);
            int quorum = ConsistencyLevel.QUORUM.required(rf);
            int all = ConsistencyLevel.ALL.required(rf);
            assertTrue(1 <= one && one <= quorum && quorum <= all && all == rf);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void requiredRejectsNonPositiveReplicationFactor(int rf) {
        for (ConsistencyLevel level : ConsistencyLevel.values()) {
            assertThrows(IllegalArgumentException.class, () -> level.required(rf), level + " at rf=" + rf);
        }
    }

    @Test
    void parseIsCaseInsensitive() {
        assertEquals(ConsistencyLevel.ONE, ConsistencyLevel.parse("one"));
        assertEquals(ConsistencyLevel.ONE, ConsistencyLevel.parse("ONE"));
        assertEquals(ConsistencyLevel.QUORUM, ConsistencyLevel.parse("Quorum"));
        assertEquals(ConsistencyLevel.QUORUM, ConsistencyLevel.parse("qUoRuM"));
        assertEquals(ConsistencyLevel.ALL, ConsistencyLevel.parse("all"));
    }

    @Test
    void parseIgnoresSurroundingWhitespace() {
        assertEquals(ConsistencyLevel.ALL, ConsistencyLevel.parse(" all "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "two", "majority", "quorum1", "al", "LOCAL_QUORUM", "o n e"})
    void parseReturnsNullForUnknown(String text) {
        assertNull(ConsistencyLevel.parse(text));
    }

    @Test
    void parseOfNullIsNull() {
        assertNull(ConsistencyLevel.parse(null));
    }
}
