package io.nimbus.core.kv;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BallotTest {

    // ---- ordering ----

    @Test
    void counterDecidesBeforeNodeId() {
        Ballot lowCounterHighNode = new Ballot(1, "zzz");
        Ballot highCounterLowNode = new Ballot(2, "aaa");
        assertTrue(lowCounterHighNode.compareTo(highCounterLowNode) < 0);
        assertTrue(highCounterLowNode.compareTo(lowCounterHighNode) > 0);
    }

    @Test
    void counterComparedNumericallyNotAsHexText() {
        // "10" < "f" as text, but 0x10 > 0xf
        assertTrue(new Ballot(0x10, "n").compareTo(new Ballot(0xf, "n")) > 0);
        assertTrue(new Ballot(Long.MAX_VALUE, "n").compareTo(new Ballot(0, "n")) > 0);
    }

    @Test
    void nodeIdBreaksTiesOnEqualCounter() {
        Ballot a = new Ballot(7, "node-a");
        Ballot b = new Ballot(7, "node-b");
        assertTrue(a.compareTo(b) < 0);
        assertTrue(b.compareTo(a) > 0);
        assertEquals(0, a.compareTo(new Ballot(7, "node-a")));
    }

    @Test
    void sortingGivesCounterThenNodeOrder() {
        List<Ballot> expected = List.of(
                new Ballot(0, "b"), new Ballot(1, "a"), new Ballot(1, "b"), new Ballot(2, "a"), new Ballot(300, "a"));
        List<Ballot> shuffled = new ArrayList<>(expected);
        Collections.reverse(shuffled);
        Collections.swap(shuffled, 0, 2);
        Collections.sort(shuffled);
        assertEquals(expected, shuffled);
    }

    @Test
    void isNewerThan() {
        Ballot b = new Ballot(5, "n1");
        assertTrue(b.isNewerThan(null));
        assertTrue(b.isNewerThan(new Ballot(4, "n9")));
        assertTrue(b.isNewerThan(new Ballot(5, "n0")));
        assertFalse(b.isNewerThan(new Ballot(5, "n1")), "a ballot is not newer than itself");
        assertFalse(b.isNewerThan(new Ballot(5, "n2")));
        assertFalse(b.isNewerThan(new Ballot(6, "a")));
    }

    // ---- token ----

    @Test
    void tokenIsLowercaseHexCounterDashNodeId() {
        assertEquals("18c1f0a2b3c40-node1", new Ballot(0x18c1f0a2b3c40L, "node1").token());
        assertEquals("0-n", new Ballot(0, "n").token());
        assertEquals("7fffffffffffffff-n", new Ballot(Long.MAX_VALUE, "n").token());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 15, 16, 255, 0x18c1f0a2b3c40L, Long.MAX_VALUE - 1, Long.MAX_VALUE})
    void tokenRoundTrips(long counter) {
        for (String node : List.of("n", "node-1", "a-b-c", "N0de_1.example:8080", "x".repeat(Ballot.NODE_ID_CHARS_MAX))) {
            Ballot b = new Ballot(counter, node);
            Ballot parsed = Ballot.parseToken(b.token());
            assertEquals(b, parsed, "round trip of " + b.token());
            assertEquals(b.token(), parsed.token());
        }
    }

    @Test
    void parseTokenSplitsAtFirstDashSoNodeIdsMayContainDashes() {
        assertEquals(new Ballot(0xab, "node-1-eu"), Ballot.parseToken("ab-node-1-eu"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            "-",
            "-x",            // no counter
            "abc",           // no dash
            "zz-n",          // not hex
            "12g-n",
            "123-",          // no node id
            "1 -n",          // space in counter
            "10000000000000000-n",   // 17 hex digits
            "00000000000000001-n",   // 17 digits even though the value is small
            "ffffffffffffffff-n",    // 16 digits, but above Long.MAX_VALUE
            "8000000000000000-n",    // Long.MIN_VALUE as unsigned
            "1-a\"b",        // quote in node id
            "1-a b",         // space in node id
            "1- n",
            "1-n\t",
            "1-caf\u00e9",   // non-ASCII node id
            "1-a\u007f",     // DEL
    })
    void parseTokenReturnsNullForGarbage(String token) {
        assertNull(Ballot.parseToken(token), () -> "'" + token + "' should not parse");
    }

    @Test
    void parseTokenRejectsOverlongNodeId() {
        assertEquals(new Ballot(1, "x".repeat(128)), Ballot.parseToken("1-" + "x".repeat(128)));
        assertNull(Ballot.parseToken("1-" + "x".repeat(129)));
    }

    @Test
    void parseTokenAcceptsExactlySixteenHexDigits() {
        assertEquals(new Ballot(Long.MAX_VALUE, "n"), Ballot.parseToken("7fffffffffffffff-n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"A-n", "0a-n", "+a-n", "00-n"})
    void parseTokenRejectsTokensWeDidNotIssue(String token) {
        assertNull(Ballot.parseToken(token), () -> "'" + token + "' is not a token we issue");
    }

    // ---- constructor validation ----

    @Test
    void constructorRejectsNegativeCounter() {
        assertThrows(IllegalArgumentException.class, () -> new Ballot(-1, "n"));
        assertThrows(IllegalArgumentException.class, () -> new Ballot(Long.MIN_VALUE, "n"));
    }

    @Test
    void constructorRejectsNullNodeId() {
        assertThrows(NullPointerException.class, () -> new Ballot(1, null));
    }

    @Test
    void constructorEnforcesNodeIdLength() {
        assertThrows(IllegalArgumentException.class, () -> new Ballot(1, ""));
        new Ballot(1, "x".repeat(Ballot.NODE_ID_CHARS_MAX)); // exactly max is fine
        assertThrows(IllegalArgumentException.class, () -> new Ballot(1, "x".repeat(Ballot.NODE_ID_CHARS_MAX + 1)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a b", " a", "a\"b", "a\tb", "a\nb", "a\u0000", "a\u007f", "caf\u00e9", "\u4e2d"})
    void constructorRejectsNonPrintableAsciiNodeIds(String nodeId) {
        assertThrows(IllegalArgumentException.class, () -> new Ballot(1, nodeId));
    }

    @Test
    void constructorAcceptsPrintableAsciiBoundaries() {
        new Ballot(0, "!");   // 0x21, first allowed
        new Ballot(0, "~");   // 0x7e, last allowed
        new Ballot(0, "a-b_c.d:e/f");
    }
}
