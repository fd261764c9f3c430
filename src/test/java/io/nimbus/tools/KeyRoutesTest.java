package io.nimbus.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.nimbus.core.ring.Murmur3;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KeyRoutesTest {
    /** Ranges (start exclusive, end inclusive): (100, -100] wraps and is a's, (-100, 0] b's, (0, 100] c's. */
    private static TreeMap<Long, String> ring() throws Exception {
        return KeyRoutes.firstReplicaByRangeEnd(new ObjectMapper().readTree("""
                {"epoch":3,"replicationFactor":3,"ranges":[
                 {"start":"100","end":"-100","owner":"a","changedAt":1,"replicas":["a","b","c"],"pending":[]},
                 {"start":"-100","end":"0","owner":"b","changedAt":1,"replicas":["b","c","a"],"pending":[]},
                 {"start":"0","end":"100","owner":"c","changedAt":2,"replicas":["c","a","b"],"pending":[]}]}"""));
    }

    @Test
    void aTokenBelongsToTheRangeItEndsInclusivelyAndPastTheLastEndWrapsToTheFirst() throws Exception {
        TreeMap<Long, String> byEnd = ring();
        assertEquals("a", KeyRoutes.firstReplica(byEnd, Long.MIN_VALUE));
        assertEquals("a", KeyRoutes.firstReplica(byEnd, -100));
        assertEquals("b", KeyRoutes.firstReplica(byEnd, -99));
        assertEquals("b", KeyRoutes.firstReplica(byEnd, 0));
        assertEquals("c", KeyRoutes.firstReplica(byEnd, 1));
        assertEquals("c", KeyRoutes.firstReplica(byEnd, 100));
        assertEquals("a", KeyRoutes.firstReplica(byEnd, 101));
        assertEquals("a", KeyRoutes.firstReplica(byEnd, Long.MAX_VALUE));
    }

    @Test
    void eachKeyGoesToTheUrlOfItsFirstReplicaAndAUrlOfNoReplicaGetsNone() throws Exception {
        TreeMap<Long, String> byEnd = ring();
        // URLs of c, a and a proxy (no range's first replica); b is not among them: its keys go nowhere
        int[][] byUrl = KeyRoutes.assign(byEnd, List.of("c", "a", "proxy"), "k-", 200);
        int assigned = 0;
        for (int k = 0; k < 200; k++) {
            long token = Murmur3.hash64(("k-" + k).getBytes(StandardCharsets.UTF_8));
            String want = token <= -100 || token > 100 ? "a" : token <= 0 ? "b" : "c";
            int at = List.of("c", "a", "proxy").indexOf(want);
            int key = k;
            if (at >= 0) {
                assertEquals(1, java.util.Arrays.stream(byUrl[at]).filter(x -> x == key).count(), "key " + k);
                assigned++;
            }
        }
        assertEquals(assigned, byUrl[0].length + byUrl[1].length, "no key assigned twice or to the wrong URL");
        assertArrayEquals(new int[0], byUrl[2]);
    }

    @Test
    void aNodeListedUnderTwoUrlsGetsItsKeysOnBoth() throws Exception {
        int[][] byUrl = KeyRoutes.assign(ring(), List.of("a", "b", "a"), "k-", 200);
        assertArrayEquals(byUrl[0], byUrl[2]);
        assertEquals(true, byUrl[0].length > 0, "a is first replica of some of 200 keys");
    }

    @Test
    void aRingWithoutRangesOrReplicasIsRefused() {
        ObjectMapper json = new ObjectMapper();
        assertThrows(IllegalStateException.class, () -> KeyRoutes.firstReplicaByRangeEnd(json.readTree("{\"ranges\":[]}")));
        assertThrows(IllegalStateException.class, () -> KeyRoutes.firstReplicaByRangeEnd(json.readTree(
                "{\"ranges\":[{\"start\":\"1\",\"end\":\"2\",\"replicas\":[]}]}")));
    }
}
