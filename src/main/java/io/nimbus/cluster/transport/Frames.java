package io.nimbus.cluster.transport;

import io.vertx.core.buffer.Buffer;

/**
 * The internal wire format: {@code u32 length | u8 kind | u64 correlation id | u8 type | payload},
 * where length counts everything after itself. A connection opens with a challenge-response
 * handshake (HELLO → AUTH → AUTH_OK) and then carries requests and responses matched by id.
 */
final class Frames {
    static final int HELLO = 1, AUTH = 2, AUTH_OK = 3, REQUEST = 4, RESPONSE = 5, FAILURE = 6;
    static final int HEADER_AFTER_LENGTH = 1 + 8 + 1;
    /** Response type meaning "no message". */
    static final int EMPTY = 0;

    private Frames() {
    }

    record Frame(int kind, long id, int type, byte[] payload) {
    }

    static Buffer encode(int kind, long id, int type, byte[] payload) {
        Buffer b = Buffer.buffer(4 + HEADER_AFTER_LENGTH + payload.length);
        b.appendInt(HEADER_AFTER_LENGTH + payload.length).appendByte((byte) kind).appendLong(id)
                .appendByte((byte) type).appendBytes(payload);
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
        int kind = body.getUnsignedByte(0);
        if (kind < HELLO || kind > FAILURE) {
            throw new MalformedMessageException("unknown frame kind " + kind);
        }
        return new Frame(kind, body.getLong(1), body.getUnsignedByte(9), body.getBytes(HEADER_AFTER_LENGTH, body.length()));
    }
}
