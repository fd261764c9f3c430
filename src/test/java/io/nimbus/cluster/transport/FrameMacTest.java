package io.nimbus.cluster.transport;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A frame MACed by one side checks out at the other only once, in order, unchanged, in its direction. */
class FrameMacTest {
    private final PeerAuth auth = new PeerAuth("s3cret", new SecureRandom());
    private final byte[] serverNonce = auth.nonce();
    private final byte[] clientNonce = auth.nonce();
    private final PeerAuth.SessionKeys keys = auth.sessionKeys(serverNonce, clientNonce);

    private static Buffer body(Buffer frame) {
        return frame.getBuffer(4, frame.length());
    }

    @Test
    void framesInOrderCheckOut() {
        FrameMac send = new FrameMac(keys.clientToServer());
        FrameMac receive = new FrameMac(keys.clientToServer());
        for (int i = 0; i < 3; i++) {
            Buffer f = Frames.encode(Frames.REQUEST, i, 7, new byte[]{(byte) i, 2, 3}, send);
            Frames.Frame d = Frames.decode(receive.verify(f.getInt(0), body(f)));
            assertEquals(i, d.id());
            assertArrayEquals(new byte[]{(byte) i, 2, 3}, d.payload());
        }
    }

    @Test
    void aReplayedFrameFails() {
        FrameMac send = new FrameMac(keys.clientToServer());
        FrameMac receive = new FrameMac(keys.clientToServer());
        Buffer f = Frames.encode(Frames.REQUEST, 1, 7, new byte[]{1}, send);
        receive.verify(f.getInt(0), body(f));
        assertThrows(FrameMac.BadMacException.class, () -> receive.verify(f.getInt(0), body(f)));
    }

    @Test
    void reorderedFramesFail() {
        FrameMac send = new FrameMac(keys.clientToServer());
        FrameMac receive = new FrameMac(keys.clientToServer());
        send.sign(Buffer.buffer("first"));
        Buffer second = Frames.encode(Frames.REQUEST, 2, 7, new byte[]{2}, send);
        assertThrows(FrameMac.BadMacException.class, () -> receive.verify(second.getInt(0), body(second)));
    }

    @Test
    void aTamperedFrameFails() {
        FrameMac send = new FrameMac(keys.clientToServer());
        FrameMac receive = new FrameMac(keys.clientToServer());
        Buffer f = Frames.encode(Frames.REQUEST, 1, 7, new byte[]{1, 2, 3}, send);
        f.setByte(14, (byte) 9);
        assertThrows(FrameMac.BadMacException.class, () -> receive.verify(f.getInt(0), body(f)));
    }

    @Test
    void aFrameReflectedToItsSenderOrFromAnotherConnectionFails() {
        Buffer f = Frames.encode(Frames.REQUEST, 1, 7, new byte[]{1}, new FrameMac(keys.clientToServer()));
        assertThrows(FrameMac.BadMacException.class, () -> new FrameMac(keys.serverToClient()).verify(f.getInt(0), body(f)));
        PeerAuth.SessionKeys other = auth.sessionKeys(auth.nonce(), clientNonce);
        assertThrows(FrameMac.BadMacException.class, () -> new FrameMac(other.clientToServer()).verify(f.getInt(0), body(f)));
        PeerAuth.SessionKeys otherSecret = new PeerAuth("other", new SecureRandom()).sessionKeys(serverNonce, clientNonce);
        assertThrows(FrameMac.BadMacException.class,
                () -> new FrameMac(otherSecret.clientToServer()).verify(f.getInt(0), body(f)));
    }
}
