package io.nimbus.core.ring;

import com.google.common.hash.Hashing;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Checked against an independent implementation (Guava's murmur3_128, first 8 bytes little-endian). */
class Murmur3Test {

    @Test
    void matchesTheReferenceForEveryLengthAndRandomBytes() {
        SplittableRandom r = new SplittableRandom(7);
        for (int len = 0; len < 100; len++) {
            for (int rep = 0; rep < 20; rep++) {
                byte[] b = new byte[len];
                for (int i = 0; i < len; i++) {
                    b[i] = (byte) r.nextInt(256);
                }
                assertEquals(Hashing.murmur3_128().hashBytes(b).asLong(), Murmur3.hash64(b), "length " + len);
            }
        }
    }

    @Test
    void knownValues() {
        assertEquals(0L, Murmur3.hash64(new byte[0]));
        assertEquals(Hashing.murmur3_128().hashString("hello", StandardCharsets.UTF_8).asLong(),
                Murmur3.hash64("hello".getBytes(StandardCharsets.UTF_8)));
    }
}
