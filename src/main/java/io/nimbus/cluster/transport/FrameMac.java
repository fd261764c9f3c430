package io.nimbus.cluster.transport;

import io.vertx.core.buffer.Buffer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * The MAC of one direction of one connection (secret mode): each frame ends with
 * HMAC-SHA256(direction key, u64 frame counter || length || kind..payload) truncated to {@link #BYTES}
 * bytes. The counter starts at 0 and advances by one per frame, so a frame injected, replayed, dropped
 * or reordered on the connection fails the check of the frame where it happens.
 */
final class FrameMac {
    static final int BYTES = 16;

    private final Mac mac;
    private long counter;

    FrameMac(byte[] key) {
        try {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /** The tag of the next frame to send, {@code frame} being its bytes from the length prefix on, without the tag. */
    byte[] sign(Buffer frame) {
        return tag(counter++, frame.getBytes());
    }

    /**
     * Checks the next received frame: {@code length} its length prefix, {@code body} everything after it,
     * tag last. Returns the body without the tag; throws {@link BadMacException} if the tag is wrong.
     */
    Buffer verify(int length, Buffer body) {
        if (body.length() < BYTES) {
            throw new BadMacException("frame of " + body.length() + " bytes has no MAC");
        }
        Buffer content = body.getBuffer(0, body.length() - BYTES);
        byte[] signed = Buffer.buffer(4 + content.length()).appendInt(length).appendBuffer(content).getBytes();
        byte[] expected = tag(counter++, signed);
        if (!MessageDigest.isEqual(expected, body.getBytes(body.length() - BYTES, body.length()))) {
            throw new BadMacException("frame " + (counter - 1) + " fails its MAC (forged, replayed, reordered or damaged)");
        }
        return content;
    }

    private byte[] tag(long n, byte[] frame) {
        mac.update(new byte[]{(byte) (n >>> 56), (byte) (n >>> 48), (byte) (n >>> 40), (byte) (n >>> 32),
                (byte) (n >>> 24), (byte) (n >>> 16), (byte) (n >>> 8), (byte) n});
        return Arrays.copyOf(mac.doFinal(frame), BYTES);
    }

    /** A frame whose MAC does not check out. */
    static final class BadMacException extends MalformedMessageException {
        BadMacException(String message) {
            super(message);
        }
    }
}
