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
}
