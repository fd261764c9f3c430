package io.nimbus.cluster.coordinator;

import io.nimbus.cluster.peer.PeerRefusedException;
import io.nimbus.core.gossip.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PendingCommitsTest {
    private static final Endpoint A = new Endpoint("127.0.0.1", 7001);
    private static final Endpoint B = new Endpoint("127.0.0.1", 7002);

    private static byte[] commit(int id, int size) {
        byte[] b = new byte[size];
        b[0] = (byte) id;
        return b;
    }

    private static List<Integer> ids(List<byte[]> commits) {
        return commits.stream().map(c -> (int) c[0]).toList();
    }

    @Test
    void commitsOwedToAPeerAreTakenOldestFirstAndOnlyByThatPeer() {
        PendingCommits p = new PendingCommits(1 << 20);
        assertTrue(p.add(A, commit(1, 10)), "the first commit owed to a peer asks for a flush");
        assertFalse(p.add(A, commit(2, 10)), "later ones ride with it");
        assertTrue(p.add(B, commit(3, 10)), "each peer is owed separately");
        assertEquals(List.of(1, 2), ids(p.take(A, 1000, false, 100)));
        assertEquals(0, p.owedTo(A));
        assertEquals(List.of(), p.take(A, 1000, true, 100), "nothing is taken twice");
        assertEquals(1, p.owedTo(B));
        assertTrue(p.add(A, commit(4, 10)), "once emptied, the next commit asks for a flush again");
    }

    @Test
    void aTakeStopsAtItsBytesAndCountAndLeavesTheRestInOrder() {
        PendingCommits p = new PendingCommits(1 << 20);
        for (int i = 1; i <= 5; i++) {
            p.add(A, commit(i, 100));
        }
        assertEquals(List.of(1, 2), ids(p.take(A, 250, false, 100)), "bytes: two of 100 fit in 250");
        assertEquals(List.of(3), ids(p.take(A, 1000, false, 1)), "count");
        assertEquals(List.of(), p.take(A, 99, false, 100), "a request with no room for one takes none");
        assertEquals(List.of(4), ids(p.take(A, 99, true, 100)), "a frame of its own takes the oldest whatever its size");
        assertEquals(List.of(5), ids(p.take(A, 1000, true, 100)));
    }

    @Test
    void commitsPutBackAfterARefusedSendGoAheadOfThoseOwedSinceInTheirOrder() {
        PendingCommits p = new PendingCommits(1 << 20);
        p.add(A, commit(1, 10));
        p.add(A, commit(2, 10));
        List<byte[]> taken = p.take(A, 1000, false, 100);
        assertFalse(p.putBack(B, List.of()).flushNeeded(), "putting back nothing asks for nothing");
        p.add(A, commit(3, 10));
        assertFalse(p.putBack(A, taken).flushNeeded(), "something was owed already: its flush is scheduled");
        assertEquals(List.of(1, 2, 3), ids(p.take(A, 1000, true, 100)));
        assertTrue(p.putBack(A, List.of(commit(4, 10))).flushNeeded(),
                "owed to an emptied peer: a flush must be scheduled");
    }

    @Test
    void aFrameOfOwedCommitsAFullBulkheadRefusedIsOwedAgainAndFlushedLater() {
        // the flush of a frame of its own found the peer's bulkhead full: nothing was sent, the peer is alive
        PendingCommits p = new PendingCommits(1 << 20);
        p.add(A, commit(1, 10));
        p.add(A, commit(2, 10));
        List<byte[]> frame = p.take(A, 1000, true, 100);
        PendingCommits.Returned r = p.refused(A, frame, PeerRefusedException.Reason.BULKHEAD_FULL);
        assertEquals(0, r.dropped(), "a full bulkhead is no reason to lose a commit");
        assertTrue(r.flushNeeded(), "nothing else is owed to A: the refused frame must be flushed again");
        assertEquals(List.of(1, 2), ids(p.take(A, 1000, true, 100)));
    }

    @Test
    void commitsAnOpenBreakerRefusedAreDropped() {
        PendingCommits p = new PendingCommits(1 << 20);
        p.add(A, commit(1, 10));
        PendingCommits.Returned r = p.refused(A, p.take(A, 1000, true, 100), PeerRefusedException.Reason.BREAKER_OPEN);
        assertEquals(1, r.dropped());
        assertFalse(r.flushNeeded());
        assertEquals(0, p.owedTo(A));
    }

    @Test
    void refusedCommitsBeyondTheBytesOwedToAPeerAreDroppedAndTheOwedStay() {
        PendingCommits p = new PendingCommits(250);
        p.add(A, commit(1, 100));
        p.add(A, commit(2, 100));
        List<byte[]> first = p.take(A, 100, true, 1);
        p.add(A, commit(3, 100));
        // owed: 2 and 3 (200 bytes); putting back 1 would make 300, above 250
        PendingCommits.Returned r = p.refused(A, first, PeerRefusedException.Reason.BULKHEAD_FULL);
        assertEquals(1, r.dropped());
        assertFalse(r.flushNeeded());
        assertEquals(List.of(2, 3), ids(p.take(A, 1000, true, 100)), "what was owed stays, in order");
        // the bytes owed went down with the take: a refused frame fits again
        assertEquals(0, p.refused(A, List.of(commit(4, 100), commit(5, 100)),
                PeerRefusedException.Reason.BULKHEAD_FULL).dropped());
        assertEquals(2, p.owedTo(A));
    }
}
