package io.nimbus.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A client that writes exactly the bytes it is given and reads one HTTP/1.x response, for requests no
 * well-behaved client library would send. One connection per exchange.
 */
final class RawHttp {
    private RawHttp() {
    }

    /** What came back: a parsed response, or {@code status == -1} when the connection closed first. */
    record Reply(int status, String statusLine, Map<String, String> headers, byte[] body, boolean closedWithoutReply,
                 boolean timedOut) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        boolean isProblem() {
            String ct = header("content-type");
            return ct != null && ct.startsWith(Problem.MEDIA_TYPE) && bodyText().startsWith("{")
                    && bodyText().contains("\"type\":\"urn:nimbus:problem:") && bodyText().contains("\"title\":")
                    && bodyText().contains("\"status\":" + status) && bodyText().contains("\"detail\":");
        }

        @Override
        public String toString() {
            return closedWithoutReply ? (timedOut ? "<timed out without reply>" : "<closed without reply>")
                    : statusLine + " " + headers + " " + bodyText();
        }
    }

    static Reply exchange(int port, byte[] request, int timeoutMs) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), timeoutMs);
            s.setSoTimeout(timeoutMs);
            try {
                s.getOutputStream().write(request);
                s.getOutputStream().flush();
            } catch (IOException e) {
                // the server may refuse early and close while we are still writing; read what it said
            }
            return read(s.getInputStream());
        } catch (SocketTimeoutException e) {
            return new Reply(-1, null, Map.of(), new byte[0], true, true);
        } catch (IOException e) {
            return new Reply(-1, null, Map.of(), new byte[0], true, false);
        }
    }

    static Reply exchange(int port, String request) {
        return exchange(port, request.getBytes(StandardCharsets.ISO_8859_1), 5000);
    }

    /** Reads one final response (skipping 1xx); a reset or close before the head ends counts as no reply. */
    static Reply read(InputStream in) throws IOException {
        return read(in, false);
    }

    /** As {@link #read(InputStream)}; {@code head}: the request was a HEAD, so the response has no body. */
    static Reply read(InputStream in, boolean head) throws IOException {
        while (true) {
            Reply r = readOne(in, head);
            if (r.closedWithoutReply() || r.status() >= 200) {
                return r;
            }
        }
    }

    /** Reads one response, interim (1xx) ones included. */
    static Reply readOne(InputStream in, boolean headRequest) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b;
            try {
                b = in.read();
            } catch (SocketTimeoutException e) {
                if (head.size() == 0) {
                    return new Reply(-1, null, Map.of(), new byte[0], true, true);
                }
                throw e;
            } catch (IOException e) {
                if (head.size() == 0) {
                    return new Reply(-1, null, Map.of(), new byte[0], true, false);
                }
                throw e;
            }
            if (b < 0) {
                if (head.size() == 0) {
                    return new Reply(-1, null, Map.of(), new byte[0], true, false);
                }
                throw new IOException("connection closed inside a response head: " + head);
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String statusLine = lines[0];
        String[] parts = statusLine.split(" ", 3);
        int status = Integer.parseInt(parts[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        String length = headers.get("content-length");
        byte[] body;
        if (headRequest || status < 200 || status == 204 || status == 304) {
            body = new byte[0];
        } else if (length != null) {
            body = in.readNBytes(Integer.parseInt(length));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            body = readChunked(in);
        } else {
            body = new byte[0];
        }
        return new Reply(status, statusLine, headers, body, false, false);
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = line(in);
            int semi = sizeLine.indexOf(';');
            int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
            if (size == 0) {
                while (!line(in).isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            line(in);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed inside a chunked body");
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }
}
