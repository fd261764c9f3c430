package io.nimbus.storage;

import io.nimbus.core.topology.Topology;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TopologyCodecTest {
    static Topology sample() {
        Topology t = io.nimbus.core.topology.TopologyTestAccess.grown(4, 3);
        return t.beginElectorateChange(t.worker("n2").orElseThrow().replica());
    }

    @Test
    void roundTripsExactly() {
        Topology t = sample();
        assertEquals(t, TopologyCodec.decode(TopologyCodec.encode(t)));
        assertEquals(t.placement(42), TopologyCodec.decode(TopologyCodec.encode(t)).placement(42));
    }

    @Test
    void everyTruncationAndTrailingByteIsCorruption() {
        byte[] full = TopologyCodec.encode(sample());
        for (int len = 0; len < full.length; len++) {
            byte[] cut = Arrays.copyOf(full, len);
            assertThrows(KeyStateCodec.CorruptRecordException.class, () -> TopologyCodec.decode(cut), "cut to " + len);
        }
        assertThrows(KeyStateCodec.CorruptRecordException.class, () -> TopologyCodec.decode(Arrays.copyOf(full, full.length + 1)));
        byte[] otherFormat = full.clone();
        otherFormat[0] = 9;
        assertThrows(KeyStateCodec.CorruptRecordException.class, () -> TopologyCodec.decode(otherFormat));
    }

    @Test
    void anOperationInProgressAndDepartedStoresRoundTrip() {
        Topology four = io.nimbus.core.topology.TopologyTestAccess.grown(4, 3);
        io.nimbus.core.topology.Worker n5 = new io.nimbus.core.topology.Worker("n5",
                new io.nimbus.core.topology.HostId(new java.util.UUID(7, 7)), new io.nimbus.core.gossip.Endpoint("127.0.0.1", 9005),
                8005, four.allocateTokens("n5", 4, 5));
        Topology joining = four.startJoin(n5);
        Topology aborted = joining.abort();
        Topology leaving = aborted.startLeave("n3", r -> true);
        for (Topology t : java.util.List.of(joining, aborted, leaving, leaving.finish())) {
            Topology back = TopologyCodec.decode(TopologyCodec.encode(t));
            assertEquals(t, back);
            assertEquals(t.operation(), back.operation());
            assertEquals(t.departed(), back.departed());
            assertEquals(t.placement(42), back.placement(42));
        }
    }

    @Test
    void formatOneIsStillRead() {
        Topology t = sample();
        byte[] two = TopologyCodec.encode(t);
        // format 1 is format 2 without the operation flag (0) and the departed count (u16 0) at the end
        assertEquals(0, two[two.length - 3]);
        byte[] one = Arrays.copyOf(two, two.length - 3);
        one[0] = 1;
        assertEquals(t, TopologyCodec.decode(one));
    }
}
