package io.nimbus.core.kv;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BallotClockTest {

    @Test
    void followsTheSuppliedTimeWhenItMovesForward() {
        BallotClock clock = new BallotClock("n1", 0);
        assertEquals(new Ballot(1_000, "n1"), clock.next(1_000));
        assertEquals(new Ballot(5_000, "n1"), clock.next(5_000));
        assertEquals(5_000, clock.highWaterMark());
    }

    @Test
    void strictlyIncreasingWhenTimeRepeats() {
        BallotClock clock = new BallotClock("n1", 0);
        Ballot a = clock.next(1_000);
        Ballot b = clock.next(1_000);
        Ballot c = clock.next(1_000);
        assertTrue(b.compareTo(a) > 0);
        assertTrue(c.compareTo(b) > 0);
        assertEquals(1_002, c.counter());
    }

    @Test
    void strictlyIncreasingWhenTimeGoesBackwards() {
        BallotClock clock = new BallotClock("n1", 0);
        Ballot prev = clock.next(1_000_000);
        long[] times = {999_999, 0, 500, 1_000_000, -5, 1_000_001, 1_000_001, 2};
        for (long t : times) {
            Ballot b = clock.next(t);
            String message = b + " not above " + prev + " at time " + t;
            assertTrue(b.compareTo(prev) > 0, message);
            assertTrue(b.counter() > prev.counter(), "counter itself must increase (same node id)");
            prev = b;
        }
    }

    @Test
    void ballotsCarryTheClocksNodeId() {
        BallotClock clock = new BallotClock("node-7", 0);
        assertEquals("node-7", clock.next(10).nodeId());
    }

    @Test
    void startsAboveTheHighWaterMarkEvenWithAnOldClock() {
        BallotClock clock = new BallotClock("n1", 50_000);
        Ballot first = clock.next(10); // wall clock far behind the persisted mark
        assertEquals(50_001, first.counter());
        assertTrue(clock.next(0).counter() > 50_001);
    }

    @Test
    void startsAboveTheHighWaterMarkWhenTimeEqualsIt() {
        BallotClock clock = new BallotClock("n1", 50_000);
        assertEquals(50_001, clock.next(50_000).counter());
    }

    @Test
    void highWaterMarkReportsLastIssued() {
        BallotClock clock = new BallotClock("n1", 7);
        assertEquals(7, clock.highWaterMark());
        Ballot b = clock.next(3);
        assertEquals(b.counter(), clock.highWaterMark());
    }

    @Test
    void observeMovesTheClockPastASeenBallot() {
        BallotClock clock = new BallotClock("n1", 0);
        clock.next(100);
        Ballot seen = new Ballot(9_000, "n2");
        clock.observe(seen);
        assertEquals(9_000, clock.highWaterMark());
        Ballot next = clock.next(200);
        assertTrue(next.isNewerThan(seen), () -> next + " should be newer than observed " + seen);
        assertEquals(9_001, next.counter());
    }

    @Test
    void observeOfSeenBallotWithHigherNodeIdStillYieldsNewerBallot() {
        // Same counter but the other node id sorts higher: next() must still beat it.
        BallotClock clock = new BallotClock("a", 0);
        Ballot seen = new Ballot(500, "zzz");
        clock.observe(seen);
        assertTrue(clock.next(0).isNewerThan(seen));
    }

    @Test
    void observeOfOlderBallotDoesNotMoveTheClockBack() {
        BallotClock clock = new BallotClock("n1", 0);
        clock.next(10_000);
        clock.observe(new Ballot(5, "n2"));
        assertEquals(10_000, clock.highWaterMark());
        assertEquals(10_001, clock.next(0).counter());
    }

    @Test
    void neverWrapsPastTheLargestCounterItRefusesInstead() {
        BallotClock clock = new BallotClock("n1", 0);
        Ballot before = clock.next(1_000);
        clock.observe(new Ballot(Long.MAX_VALUE, "forger"));
        BallotClock.ExhaustedException e = assertThrows(BallotClock.ExhaustedException.class, () -> clock.next(2_000));
        assertTrue(e.getMessage().contains("exhausted"), e.getMessage());
        // and it stays refused: no later call hands out a ballot below the one it saw
        assertThrows(BallotClock.ExhaustedException.class, () -> clock.next(Long.MAX_VALUE));
        assertEquals(Long.MAX_VALUE, clock.highWaterMark());
        assertTrue(before.counter() < clock.highWaterMark());
    }

    @Test
    void theLastCounterIsStillIssuedOnce() {
        BallotClock clock = new BallotClock("n1", Long.MAX_VALUE - 1);
        assertEquals(Long.MAX_VALUE, clock.next(0).counter());
        assertThrows(BallotClock.ExhaustedException.class, () -> clock.next(0));
    }

    @Test
    void aHighWaterMarkAtTheTopIsExhaustedFromTheStart() {
        assertThrows(BallotClock.ExhaustedException.class, () -> new BallotClock("n1", Long.MAX_VALUE).next(5));
    }
}
