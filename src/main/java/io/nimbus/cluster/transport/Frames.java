package io.nimbus.cluster.transport;

import io.vertx.core.buffer.Buffer;

/**
 * The internal wire format: {@code u32 length | u8 kind | u64 correlation id | u8 type | payload [| mac]},
 * where length counts everything after itself. A connection opens with a challenge-response
 * handshake (HELLO → AUTH → AUTH_OK) of frames of at most {@link #HANDSHAKE_BYTES_MAX} bytes, and then
 * carries requests and responses matched by id; with a shared secret each of those ends with a
 * {@link FrameMac} tag.
 *
 * <p>HELLO (server → client): type = {@link #PROTOCOL_VERSION}, payload = flags (bit 0: a secret is
 * required) || server nonce. AUTH (client → server): type = version, payload = client nonce || proof.
 * AUTH_OK (server → client): payload = the server's proof.
 */
final class Frames {
    static final int HELLO = 1, AUTH = 2, AUTH_OK = 3, REQUEST = 4, RESPONSE = 5, FAILURE = 6;
    static final int HEADER_AFTER_LENGTH = 1 + 8 + 1;
    /**
     * Version of the cluster protocol, carried in HELLO and AUTH. 1 (implicit): unauthenticated frames after
     * the handshake; 2: per-frame MACs in secret mode, bounded handshake; 3: Paxos bundles (commits riding with
     * a request, {@code PaxosCodec.BUNDLE}), which a version-2 node would refuse as malformed mid-stream; 4: writes
     * in a coordinator's term (a proposal's version above its ballot, ordered by ballot then version), which a
     * version-3 acceptor would refuse or, worse, commit out of order.
     */
    static final int PROTOCOL_VERSION = 5;
    static final int FLAG_SECRET = 1;
    /** Largest frame (after the length prefix) read before a connection has authenticated. */
    static final int HANDSHAKE_BYTES_MAX = 256;
    /** Response type meaning "no message". */
    static final int EMPTY = 0;

    private Frames() {
    }

    record Frame(int kind, long id, int type, byte[] payload) {
    }

    static Buffer encode(int kind, long id, int type, byte[] payload) {
        return encode(kind, id, type, payload, null);
    }

    /** The frame's bytes, ending with {@code mac}'s tag when {@code mac} is not null. */
    static Buffer encode(int kind, long id, int type, byte[] payload, FrameMac mac) {
        int tag = mac == null ? 0 : FrameMac.BYTES;
        Buffer b = Buffer.buffer(4 + HEADER_AFTER_LENGTH + payload.length + tag);
        b.appendInt(HEADER_AFTER_LENGTH + payload.length + tag).appendByte((byte) kind).appendLong(id)
                .appendByte((byte) type).appendBytes(payload);
        if (mac != null) {
            b.appendBytes(mac.sign(b));
        }
        return b;
    }

    /** Validates a length prefix; throws if it cannot start a frame. */
    static int checkLength(int length, int frameBytesMax) {
        if (length < HEADER_AFTER_LENGTH || length > frameBytesMax) {
            throw new MalformedMessageException("frame length " + length + " outside " + HEADER_AFTER_LENGTH + ".."
                    + frameBytesMax);
        }
        return length;
    }

    static Frame decode(Buffer body) {
        if (body.length() < HEADER_AFTER_LENGTH) {
            throw new MalformedMessageException("frame of " + body.length() + " bytes is shorter than its header");
        }
        int kind = body.getUnsignedByte(0);
        if (kind < HELLO || kind > FAILURE) {
            throw new MalformedMessageException("unknown frame kind " + kind);
        }
        return new Frame(kind, body.getLong(1), body.getUnsignedByte(9), body.getBytes(HEADER_AFTER_LENGTH, body.length()));
    }
}
