package io.nimbus.tools;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One persistent HTTP/1.1 connection with one request in flight: the load tool's client. Written
 * out by hand because a general-purpose client costs several times the CPU of the server it
 * measures on a 2-core machine, which would make the tool measure itself.
 */
final class HttpConnection implements Closeable {
    record Response(int status, String etag, byte[] body) {
    }

    private static final int LINE_BYTES_MAX = 16 * 1024;
    private static final int BODY_BYTES_MAX = 256 * 1024 * 1024;

    private final String host;
    private final int port;
    private final boolean tls;
    private final SSLSocketFactory tlsSockets;
    private final int timeoutMs;
    private Socket socket;
    private InputStream in;
    private OutputStream out;

    HttpConnection(URI base, int timeoutMs) {
        this(base, timeoutMs, (SSLSocketFactory) SSLSocketFactory.getDefault());
    }

    /** {@code tlsSockets}: for https:// bases; the default one trusts the JVM's trust store. */
    HttpConnection(URI base, int timeoutMs, SSLSocketFactory tlsSockets) {
        this.tlsSockets = tlsSockets;
        this.host = base.getHost();
        this.tls = "https".equalsIgnoreCase(base.getScheme());
        this.port = base.getPort() > 0 ? base.getPort() : tls ? 443 : 80;
        this.timeoutMs = timeoutMs;
    }

    Response exchange(String method, String target, String[] headers, byte[] body) throws IOException {
        if (socket == null) {
            connect();
        }
        try {
            return send(method, target, headers, body);
        } catch (IOException e) {
            try {
                close();
            } catch (java.io.UncheckedIOException closeError) {
                e.addSuppressed(closeError);
            }
            throw e;
        }
    }

    private void connect() throws IOException {
        Socket plain = new Socket();
        try {
            plain.setTcpNoDelay(true);
            plain.connect(new InetSocketAddress(host, port), timeoutMs);
            plain.setSoTimeout(timeoutMs);
            Socket s = plain;
            if (tls) {
                SSLSocket secure = (SSLSocket) tlsSockets.createSocket(plain, host, port, true);
                SSLParameters params = secure.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name this host
                secure.setSSLParameters(params);
                secure.startHandshake();
                s = secure;
            }
            in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
            out = new BufferedOutputStream(s.getOutputStream(), 64 * 1024);
            socket = s; // only a fully set-up connection is ever reused
        } catch (IOException e) {
            try {
                plain.close();
            } catch (IOException closeError) {
                e.addSuppressed(closeError);
            }
            throw e;
        }
    }

    private Response send(String method, String target, String[] headers, byte[] body) throws IOException {
        StringBuilder req = new StringBuilder(256).append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: ").append(host).append(':').append(port).append("\r\n");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        if (body != null) {
            req.append("Content-Length: ").append(body.length).append("\r\n");
        }
        req.append("\r\n");
        out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
            out.write(body);
        }
        out.flush();

        String status = readLine();
        if (!status.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        String etag = null;
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                case "connection" -> close = value.equalsIgnoreCase("close");
                case "etag" -> etag = value;
                default -> {
                }
            }
        }
        byte[] content;
        if (method.equals("HEAD") || code == 204 || code == 304) {
            content = new byte[0];
        } else if (chunked) {
            content = readChunked();
        } else if (length >= 0) {
            if (length > BODY_BYTES_MAX) {
                throw new IOException("response body of " + length + " bytes is over " + BODY_BYTES_MAX);
            }
            content = in.readNBytes((int) length);
            if (content.length != length) {
                throw new EOFException("connection closed inside a response body");
            }
        } else {
            content = in.readAllBytes();
            close = true;
        }
        if (close) {
            close();
        }
        return new Response(code, etag, content);
    }

    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine();
            int semi = sizeLine.indexOf(';');
            int size = Integer.parseInt((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
            if (size == 0) {
                while (!readLine().isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            if (body.size() + size > BODY_BYTES_MAX) {
                throw new IOException("chunked response body is over " + BODY_BYTES_MAX + " bytes");
            }
            body.writeBytes(in.readNBytes(size));
            readLine();
        }
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("connection closed by the server");
            }
            if (c == '\n') {
                int len = sb.length();
                return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
            }
            if (sb.length() >= LINE_BYTES_MAX) {
                throw new IOException("response line over " + LINE_BYTES_MAX + " bytes");
            }
            sb.append((char) c);
        }
    }

    @Override
    public void close() {
        Socket s = socket;
        socket = null;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("closing the connection to " + host + ":" + port, e);
            }
        }
    }
}
