package io.nimbus.cluster.transport;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Strings on the cluster wire: u16 length, then UTF-8 bytes. Shared by the message codecs. */
public final class WireStrings {
    private WireStrings() {
    }

    public static void write(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xffff) {
            throw new IllegalArgumentException("string of " + b.length + " bytes is too long for the wire");
        }
        out.writeShort(b.length);
        out.write(b);
    }

    public static String read(ByteBuffer in) {
        int len = Short.toUnsignedInt(in.getShort());
        byte[] b = new byte[len];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
