package io.nimbus.cluster.coordinator;

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
        PendingCommits p = new PendingCommits();
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
        PendingCommits p = new PendingCommits();
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
        PendingCommits p = new PendingCommits();
        p.add(A, commit(1, 10));
        p.add(A, commit(2, 10));
        List<byte[]> taken = p.take(A, 1000, false, 100);
        assertFalse(p.putBack(B, List.of()), "putting back nothing asks for nothing");
        p.add(A, commit(3, 10));
        assertFalse(p.putBack(A, taken), "something was owed already: its flush is scheduled");
        assertEquals(List.of(1, 2, 3), ids(p.take(A, 1000, true, 100)));
        assertTrue(p.putBack(A, List.of(commit(4, 10))), "owed to an emptied peer: a flush must be scheduled");
    }
}
