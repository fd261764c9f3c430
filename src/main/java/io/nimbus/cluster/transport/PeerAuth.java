package io.nimbus.cluster.transport;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * Mutual challenge-response on the shared {@code nimbus.cluster.secret}: each side sends a random
 * nonce and the other proves knowledge of the secret with HMAC-SHA256(secret, role || nonce). The
 * secret never crosses the wire. Both nonces then key the connection's two {@link FrameMac}s, so every
 * later frame is bound to this connection, its direction and its place in the stream. Without a secret,
 * proofs are empty and any peer is accepted (loopback development, or TLS, which authenticates peers and
 * frames itself); a node with a secret refuses peers that cannot prove it.
 */
final class PeerAuth {
    static final int NONCE_BYTES = 16;
    private static final byte[] CLIENT = "nimbus-peer-client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER = "nimbus-peer-server".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SESSION = "nimbus-session-v2".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT_TO_SERVER = "client-to-server".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER_TO_CLIENT = "server-to-client".getBytes(StandardCharsets.US_ASCII);

    /** The two directions' frame MAC keys of one connection. */
    record SessionKeys(byte[] clientToServer, byte[] serverToClient) {
    }

    private final byte[] secret;
    private final SecureRandom random;

    PeerAuth(String secret, SecureRandom random) {
        this.secret = secret == null || secret.isEmpty() ? null : secret.getBytes(StandardCharsets.UTF_8);
        this.random = random;
    }

    boolean required() {
        return secret != null;
    }

    byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        random.nextBytes(n);
        return n;
    }

    byte[] clientProof(byte[] serverNonce) {
        return proof(CLIENT, serverNonce);
    }

    byte[] serverProof(byte[] clientNonce) {
        return proof(SERVER, clientNonce);
    }

    boolean checkClient(byte[] serverNonce, byte[] proof) {
        return !required() || MessageDigest.isEqual(clientProof(serverNonce), proof);
    }

    boolean checkServer(byte[] clientNonce, byte[] proof) {
        return !required() || MessageDigest.isEqual(serverProof(clientNonce), proof);
    }

    /**
     * The connection's frame keys: K = HMAC(secret, "nimbus-session-v2" || server nonce || client nonce), one key
     * per direction HMAC(K, direction). Only with a secret.
     */
    SessionKeys sessionKeys(byte[] serverNonce, byte[] clientNonce) {
        if (secret == null) {
            throw new IllegalStateException("no secret: frames are not MACed");
        }
        byte[] k = hmac(secret, SESSION, serverNonce, clientNonce);
        return new SessionKeys(hmac(k, CLIENT_TO_SERVER), hmac(k, SERVER_TO_CLIENT));
    }

    private byte[] proof(byte[] role, byte[] nonce) {
        return secret == null ? new byte[0] : hmac(secret, role, nonce);
    }

    static byte[] hmac(byte[] key, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            for (byte[] p : parts) {
                mac.update(p);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }
}
