package io.nimbus.cluster.transport;

import java.util.Optional;

/**
 * What the {@link ClusterTransport} is configured with ({@code nimbus.cluster.*}).
 *
 * @param secret                   shared secret peers prove, and that keys the per-frame MACs; empty: none
 * @param tls                      mutual TLS; empty: plain TCP
 * @param frameBytesMax            largest frame after the handshake
 * @param pendingPerPeerMax        most requests in flight to one peer
 * @param handshakeTimeoutMs       an accepted connection not authenticated by then is closed
 * @param idleTimeoutMs            an accepted connection without frames for this long is closed; this node's own
 *                                 connections to peers close after half of it
 * @param handshakesMax            accepted connections in their handshake at once
 * @param connectionsPerAddressMax accepted connections from one remote address at once
 * @param localAddress             source address of connections to peers; empty: the kernel's choice
 * @param writeBatchBytesMax       frames for one connection are gathered until the transport's queued tasks have run
 *                                 and written to its socket in one write, at most this many bytes; 0: each frame
 *                                 written (and flushed) on its own
 */
public record TransportSettings(Optional<String> secret, Optional<ClusterTls> tls, int frameBytesMax,
                                int pendingPerPeerMax, long handshakeTimeoutMs, long idleTimeoutMs, int handshakesMax,
                                int connectionsPerAddressMax, Optional<String> localAddress,
                                int writeBatchBytesMax) {

    /** {@code nimbus.cluster.write-batch-bytes-max}'s default. */
    public static final int WRITE_BATCH_BYTES_DEFAULT = 65536;

    public TransportSettings {
        if (frameBytesMax < Frames.HANDSHAKE_BYTES_MAX || pendingPerPeerMax < 1 || handshakeTimeoutMs < 1
                || idleTimeoutMs < 2 || handshakesMax < 1 || connectionsPerAddressMax < 1 || writeBatchBytesMax < 0) {
            throw new IllegalArgumentException("cluster transport limits out of range: " + this);
        }
        secret = secret.filter(s -> !s.isEmpty());
    }

    /** Defaults of everything but the secret and the two frame limits (tests, tools). */
    public static TransportSettings of(String secret, int frameBytesMax, int pendingPerPeerMax) {
        return new TransportSettings(Optional.ofNullable(secret), Optional.empty(), frameBytesMax, pendingPerPeerMax,
                5000, 60000, 128, 64, Optional.empty(), WRITE_BATCH_BYTES_DEFAULT);
    }

    public TransportSettings withTls(ClusterTls t) {
        return new TransportSettings(secret, Optional.of(t), frameBytesMax, pendingPerPeerMax, handshakeTimeoutMs,
                idleTimeoutMs, handshakesMax, connectionsPerAddressMax, localAddress, writeBatchBytesMax);
    }

    public TransportSettings withTimeouts(long handshakeMs, long idleMs) {
        return new TransportSettings(secret, tls, frameBytesMax, pendingPerPeerMax, handshakeMs, idleMs, handshakesMax,
                connectionsPerAddressMax, localAddress, writeBatchBytesMax);
    }

    public TransportSettings withConnectionLimits(int handshakes, int perAddress) {
        return new TransportSettings(secret, tls, frameBytesMax, pendingPerPeerMax, handshakeTimeoutMs, idleTimeoutMs,
                handshakes, perAddress, localAddress, writeBatchBytesMax);
    }

    public TransportSettings withWriteBatchBytesMax(int bytes) {
        return new TransportSettings(secret, tls, frameBytesMax, pendingPerPeerMax, handshakeTimeoutMs, idleTimeoutMs,
                handshakesMax, connectionsPerAddressMax, localAddress, bytes);
    }

    @Override
    public String toString() {
        return "TransportSettings[secret " + (secret.isPresent() ? "set" : "none") + ", tls " + tls
                + ", frameBytesMax " + frameBytesMax + ", pendingPerPeerMax " + pendingPerPeerMax
                + ", handshakeTimeoutMs " + handshakeTimeoutMs + ", idleTimeoutMs " + idleTimeoutMs
                + ", handshakesMax " + handshakesMax + ", connectionsPerAddressMax " + connectionsPerAddressMax
                + ", localAddress " + localAddress + ", writeBatchBytesMax " + writeBatchBytesMax + "]";
    }
}
