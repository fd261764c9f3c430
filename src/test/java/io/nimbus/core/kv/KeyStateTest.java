package io.nimbus.core.kv;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyStateTest {

    private static Ballot b(long counter) {
        return new Ballot(counter, "n1");
    }

    @Test
    void acceptedAbovePromisedThrows() {
        assertThrows(IllegalStateException.class,
                () -> new KeyState(b(5), new Proposal(b(6), new byte[]{1}), null));
        // same counter, higher node id is still above
        assertThrows(IllegalStateException.class,
                () -> new KeyState(new Ballot(5, "a"), new Proposal(new Ballot(5, "b"), new byte[]{1}), null));
    }

    @Test
    void committedAbovePromisedThrows() {
        assertThrows(IllegalStateException.class,
                () -> new KeyState(b(5), null, new Proposal(b(6), new byte[]{1})));
        assertThrows(IllegalStateException.class,
                () -> new KeyState(b(5), null, Proposal.tombstone(b(9))));
    }

    @Test
    void acceptedAndCommittedAtOrBelowPromisedAreFine() {
        Proposal p5 = new Proposal(b(5), new byte[]{1});
        assertDoesNotThrow(() -> new KeyState(b(5), p5, p5));
        assertDoesNotThrow(() -> new KeyState(b(9), new Proposal(b(7), new byte[0]), p5));
        assertDoesNotThrow(() -> new KeyState(b(9), null, null));
    }

    @Test
    void emptyHasNothing() {
        assertNull(KeyState.EMPTY.promised());
        assertNull(KeyState.EMPTY.accepted());
        assertNull(KeyState.EMPTY.committed());
        assertFalse(KeyState.EMPTY.exists());
        assertNull(KeyState.EMPTY.liveVersion());
    }

    @Test
    void liveValueExistsAndHasItsBallotAsVersion() {
        Proposal p = new Proposal(b(3), "v".getBytes());
        KeyState s = new KeyState(b(3), p, p);
        assertTrue(s.exists());
        assertEquals(b(3), s.liveVersion());
    }

    @Test
    void tombstoneDoesNotExistAndHasNoLiveVersion() {
        Proposal t = Proposal.tombstone(b(3));
        KeyState s = new KeyState(b(3), t, t);
        assertFalse(s.exists());
        assertNull(s.liveVersion());
    }

    @Test
    void emptyValueIsNotATombstone() {
        Proposal p = new Proposal(b(3), new byte[0]);
        KeyState s = new KeyState(b(3), p, p);
        assertTrue(s.exists());
        assertEquals(b(3), s.liveVersion());
    }
}
