package io.nimbus.cluster.transport;

import io.vertx.core.buffer.Buffer;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.util.Arrays;

/** A hand-driven client of the cluster port on a blocking socket: speaks (or breaks) the protocol frame by frame. */
final class RawPeer implements AutoCloseable {
    final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    FrameMac sendMac;
    FrameMac receiveMac;
    private Frames.Frame hello;

    RawPeer(int port) throws IOException {
        this(port, null);
    }

    /** From {@code localAddress} (e.g. 127.0.0.2), or the kernel's choice if null. */
    RawPeer(int port, String localAddress) throws IOException {
        socket = localAddress == null ? new Socket("127.0.0.1", port)
                : new Socket(InetAddress.getByName("127.0.0.1"), port, InetAddress.getByName(localAddress), 0);
        socket.setSoTimeout(5000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** The next frame (MAC checked and stripped once {@link #handshake} set one up). */
    Frames.Frame read() throws IOException {
        int length = in.readInt();
        byte[] body = new byte[length];
        in.readFully(body);
        Buffer b = Buffer.buffer(body);
        Frames.Frame f = Frames.decode(receiveMac == null ? b : receiveMac.verify(length, b));
        if (f.kind() == Frames.HELLO && hello == null) {
            hello = f;
        }
        return f;
    }

    void write(Buffer b) throws IOException {
        out.write(b.getBytes());
        out.flush();
    }

    /** Writes, ignoring the server closing the connection under the write (that is what some tests expect). */
    void writeIgnoringClose(byte[] b) {
        try {
            out.write(b);
            out.flush();
        } catch (IOException closedUnderUs) {
            // the peer closed the connection: the bytes after that were never wanted
        }
    }

    /** (HELLO, unless already read) → AUTH (proof of {@code secret}, or none) → AUTH_OK; with a secret, frames are MACed from then on. */
    RawPeer handshake(String secret) throws IOException {
        PeerAuth auth = new PeerAuth(secret, new SecureRandom());
        Frames.Frame first = hello != null ? hello : read();
        if (first.kind() != Frames.HELLO) {
            throw new IOException("expected HELLO, got kind " + first.kind());
        }
        byte[] serverNonce = Arrays.copyOfRange(first.payload(), 1, first.payload().length);
        byte[] nonce = auth.nonce();
        byte[] proof = auth.clientProof(serverNonce);
        byte[] payload = new byte[nonce.length + proof.length];
        System.arraycopy(nonce, 0, payload, 0, nonce.length);
        System.arraycopy(proof, 0, payload, nonce.length, proof.length);
        write(Frames.encode(Frames.AUTH, 0, Frames.PROTOCOL_VERSION, payload));
        Frames.Frame ok = read();
        if (ok.kind() != Frames.AUTH_OK) {
            throw new IOException("expected AUTH_OK, got kind " + ok.kind());
        }
        if (secret != null) {
            PeerAuth.SessionKeys keys = auth.sessionKeys(serverNonce, nonce);
            sendMac = new FrameMac(keys.clientToServer());
            receiveMac = new FrameMac(keys.serverToClient());
        }
        return this;
    }

    /** A REQUEST frame as this peer would send it next (MACed if the handshake set that up). */
    Buffer request(long id, int type, byte[] body) {
        return Frames.encode(Frames.REQUEST, id, type, body, sendMac);
    }

    /** Waits until the server closes the connection (bytes it still sends are read and dropped); returns the ms. */
    long awaitClosed(long timeoutMs) throws IOException {
        long start = System.nanoTime();
        socket.setSoTimeout((int) timeoutMs);
        try {
            while (in.read() != -1) {
                if ((System.nanoTime() - start) / 1_000_000 > timeoutMs) {
                    throw new AssertionError("the server kept the connection open for " + timeoutMs + " ms");
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server kept the connection open for " + timeoutMs + " ms");
        } catch (EOFException | SocketException closed) {
            // reset by the server: closed
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
