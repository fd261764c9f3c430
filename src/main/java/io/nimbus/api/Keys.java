package io.nimbus.api;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict decoding and validation of keys as they arrive in URLs. */
public final class Keys {
    private Keys() {
    }

    /**
     * Percent-decodes {@code raw} (a path segment or query value as sent), requires valid UTF-8 and
     * 1..{@code maxBytes} bytes. {@code plusIsSpace} for query strings.
     */
    public static String decode(String raw, int maxBytes, boolean plusIsSpace, String what) {
        if (raw == null || raw.isEmpty()) {
            throw new ProblemException.BadRequest(what + " is missing or empty: keys are 1.." + maxBytes + " bytes of UTF-8");
        }
        byte[] b = percentDecode(raw, plusIsSpace, what);
        if (b[0] == 0) {
            throw new ProblemException.BadRequest(what + " starts with the byte 00 (%00): keys starting with U+0000 are "
                    + "reserved for Nimbus's own metadata");
        }
        if (b.length > maxBytes) {
            throw new ProblemException.BadRequest(what + " is " + b.length + " bytes; keys are at most " + maxBytes
                    + " bytes of UTF-8 (nimbus.limits.max-key-bytes)");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new ProblemException.BadRequest(what + " is not valid UTF-8 after percent-decoding: "
                    + "percent-encode the UTF-8 bytes of the key");
        }
    }

    /**
     * The bytes a percent-encoded text stands for (strict: %XX with ASCII hex digits, no lone
     * surrogates); {@code plusIsSpace} for query strings. Used as is for values.
     */
    public static byte[] percentDecode(String raw, boolean plusIsSpace, String what) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length() || hex(raw.charAt(i + 1)) < 0 || hex(raw.charAt(i + 2)) < 0) {
                    throw new ProblemException.BadRequest(what + " has a bad percent-escape at position " + i
                            + ": use %XX with two hex digits (encode '%' itself as %25)");
                }
                bytes.write(hex(raw.charAt(i + 1)) * 16 + hex(raw.charAt(i + 2)));
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                bytes.write(' ');
            } else {
                if (Character.isSurrogate(c)) {
                    if (!Character.isHighSurrogate(c) || i + 1 >= raw.length()
                            || !Character.isLowSurrogate(raw.charAt(i + 1))) {
                        throw new ProblemException.BadRequest(what + " contains a lone UTF-16 surrogate at position "
                                + i + ": send it as percent-encoded UTF-8");
                    }
                    bytes.writeBytes(raw.substring(i, i + 2).getBytes(StandardCharsets.UTF_8));
                    i++;
                } else {
                    bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        return bytes.toByteArray();
    }

    /** The value of an ASCII hex digit (RFC 3986 HEXDIG), or -1. */
    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** The first value of {@code name} in a raw (still percent-encoded) query string, or null. */
    public static String rawQueryParam(String rawQuery, String name) {
        if (rawQuery == null) {
            return null;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String n = eq < 0 ? pair : pair.substring(0, eq);
            if (n.equals(name)) {
                return eq < 0 ? "" : pair.substring(eq + 1);
            }
        }
        return null;
    }

    /** The key for messages: control characters escaped, long keys cut. */
    static String printable(String key) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < key.length() && sb.length() < 120; i++) {
            char c = key.charAt(i);
            sb.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return sb.length() < key.length() ? sb + "…" : sb.toString();
    }
}
