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
 * secret never crosses the wire. Without a secret, proofs are empty and any peer is accepted
 * (loopback development); a node with a secret refuses peers that cannot prove it.
 */
final class PeerAuth {
    static final int NONCE_BYTES = 16;
    private static final byte[] CLIENT = "nimbus-peer-client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER = "nimbus-peer-server".getBytes(StandardCharsets.US_ASCII);

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

    private byte[] proof(byte[] role, byte[] nonce) {
        if (secret == null) {
            return new byte[0];
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(role);
            return mac.doFinal(nonce);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }
}
