package io.nimbus.core.coordinator;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyQueueTest {
    static final KeyQueue.Kind PLAIN = KeyQueue.Kind.PLAIN;
    static final KeyQueue.Kind COMPARE = KeyQueue.Kind.COMPARE;

    @Test
    void oneRequestRunsPerKeyTheRestWait() {
        KeyQueue<String> q = new KeyQueue<>(true);
        assertTrue(q.arrive("k", "a", PLAIN));
        assertFalse(q.arrive("k", "b", PLAIN));
        assertTrue(q.arrive("other", "x", PLAIN), "keys do not wait for each other");
        assertEquals(List.of("a", "b"), q.held("k"));
        assertEquals("b", q.leave("k", "a"));
        assertNull(q.leave("k", "b"));
        assertEquals(List.of(), q.held("k"));
        assertEquals(1, q.keys());
    }

    @Test
    void aWaitingCompareAndSetGoesAheadOfWaitingBlindWritesOtherwiseArrivalOrder() {
        KeyQueue<String> q = new KeyQueue<>(true);
        q.arrive("k", "running", PLAIN);
        q.arrive("k", "put1", PLAIN);
        q.arrive("k", "get", PLAIN);
        q.arrive("k", "cas1", COMPARE);
        q.arrive("k", "put2", PLAIN);
        q.arrive("k", "cas2", COMPARE);
        assertEquals("cas1", q.leave("k", "running"));
        assertEquals("cas2", q.leave("k", "cas1"));
        assertEquals("put1", q.leave("k", "cas2"));
        assertEquals("get", q.leave("k", "put1"));
        assertEquals("put2", q.leave("k", "get"));
    }

    @Test
    void compareAndSetsThatKeepComingPassTheOldestPlainRequestAtMostTheBoundTimesInARow() {
        // clients retrying a failed compare-and-set at once (with the 412's ETag) keep one waiting all the time
        KeyQueue<String> q = new KeyQueue<>(true, 3);
        q.arrive("k", "running", PLAIN);
        q.arrive("k", "put", PLAIN);
        String current = "running";
        List<String> order = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            q.arrive("k", "cas" + i, COMPARE);
            current = q.leave("k", current);
            order.add(current);
        }
        assertEquals(List.of("cas0", "cas1", "cas2", "put", "cas3"), order);
    }

    @Test
    void firstComeFirstServedWhenComparesDoNotGoFirst() {
        KeyQueue<String> q = new KeyQueue<>(false);
        q.arrive("k", "running", PLAIN);
        q.arrive("k", "put1", PLAIN);
        q.arrive("k", "cas1", COMPARE);
        assertEquals("put1", q.leave("k", "running"));
        assertEquals("cas1", q.leave("k", "put1"));
    }

    @Test
    void aWaitingRequestThatGivesUpLeavesTheLineWithoutStartingAnother() {
        KeyQueue<String> q = new KeyQueue<>(true);
        q.arrive("k", "running", PLAIN);
        q.arrive("k", "late", COMPARE);
        q.arrive("k", "next", PLAIN);
        assertNull(q.leave("k", "late"));
        assertEquals(List.of("running", "next"), q.held("k"));
        assertEquals("next", q.leave("k", "running"));
        assertNull(q.leave("gone", "nothing"));
    }

    @Test
    void onlyWritesUnderAPreconditionCompare() {
        Ballot v = new Ballot(5, "n");
        assertEquals(COMPARE, KeyQueue.kindOf(new Coordination.Request.Write(new Mutation("k", new byte[1],
                new Precondition.VersionIn(List.of(v))))));
        assertEquals(COMPARE, KeyQueue.kindOf(new Coordination.Request.Write(new Mutation("k", new byte[1], new Precondition.Absent()))));
        assertEquals(COMPARE, KeyQueue.kindOf(new Coordination.Request.Write(new Mutation("k", null,
                new Precondition.VersionIn(List.of(v))))));
        assertEquals(PLAIN, KeyQueue.kindOf(new Coordination.Request.Write(new Mutation("k", new byte[1], Precondition.NONE))));
        assertEquals(PLAIN, KeyQueue.kindOf(new Coordination.Request.Write(new Mutation("k", null, Precondition.NONE))));
        assertEquals(PLAIN, KeyQueue.kindOf(new Coordination.Request.Read()));
    }
}
