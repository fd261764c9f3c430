package io.nimbus.cluster.transport;

import io.nimbus.core.gossip.Endpoint;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The internal transport on {@code nimbus.cluster.port}: Vert.x TCP (optionally mutual TLS, {@link ClusterTls}),
 * length-prefixed frames ({@link Frames}), an authenticated handshake ({@link PeerAuth}), per-frame MACs in
 * secret mode ({@link FrameMac}), and requests matched to responses by correlation id, so concurrent
 * requests on one connection never cross. One connection per peer, opened on first use, closed when idle,
 * and reopened on next use. A frame that is malformed, oversized, out of turn or fails its MAC closes its
 * connection; the node goes on.
 *
 * <p>Before a connection has authenticated, the accepting side reads frames of at most
 * {@link Frames#HANDSHAKE_BYTES_MAX} bytes, closes it after {@code handshakeTimeoutMs}, and admits it only
 * within {@link ConnectionLimits} (handshakes at once, connections per remote address).
 *
 * <p>All connection state lives on one Vert.x context, so it is touched by one thread at a time.
 */
public final class ClusterTransport implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ClusterTransport.class);

    /** A typed message body. {@code type} 0 with an empty body means "no message". */
    public record Message(int type, byte[] body) {
        public static final Message EMPTY = new Message(Frames.EMPTY, new byte[0]);
    }

    /** Handles one request; the future's message (or {@link Message#EMPTY}) is the response. */
    @FunctionalInterface
    public interface Handler {
        Future<Message> handle(Message request);
    }

    /** Counters for metrics and for the gossip-bytes figure. */
    public static final class Stats {
        final AtomicLong bytesSent = new AtomicLong();
        final AtomicLong bytesReceived = new AtomicLong();
        final AtomicLong connectionsRejected = new AtomicLong();
        final AtomicLong connectionsRefused = new AtomicLong();
        final AtomicLong handshakeTimeouts = new AtomicLong();
        final AtomicLong idleClosed = new AtomicLong();
        final AtomicLong malformedFrames = new AtomicLong();
        final AtomicLong badMacs = new AtomicLong();
        final AtomicLong framesSent = new AtomicLong();
        final AtomicLong socketWrites = new AtomicLong();

        /** Bytes written to peers' sockets. */
        public long bytesSent() {
            return bytesSent.get();
        }

        /** Bytes read from sockets (after TLS), whether or not they made a frame. */
        public long bytesReceived() {
            return bytesReceived.get();
        }

        /** Connections whose handshake failed: wrong or missing proof or certificate, wrong protocol version. */
        public long connectionsRejected() {
            return connectionsRejected.get();
        }

        /** Accepted connections closed at once by the limits (handshakes at once, connections per address). */
        public long connectionsRefused() {
            return connectionsRefused.get();
        }

        /**
         * Connections closed because they had not authenticated within the handshake time-out (accepted ones, and
         * this node's own to a peer that never completed the handshake).
         */
        public long handshakeTimeouts() {
            return handshakeTimeouts.get();
        }

        /** Connections (accepted or this node's own) closed for being idle. */
        public long idleClosed() {
            return idleClosed.get();
        }

        /** Frames refused as malformed, oversized or out of turn (MAC failures included). */
        public long malformedFrames() {
            return malformedFrames.get();
        }

        /** Frames whose MAC did not check out. */
        public long badMacs() {
            return badMacs.get();
        }

        /** Frames written to peers' sockets (handshakes included). */
        public long framesSent() {
            return framesSent.get();
        }

        /** Writes to peers' sockets: fewer than {@link #framesSent} by the frames that went out together. */
        public long socketWrites() {
            return socketWrites.get();
        }
    }

    private final Vertx vertx;
    private final Context context;
    private final TransportSettings settings;
    private final PeerAuth auth;
    private final Handler handler;
    private final NetClient client;
    private final ConnectionLimits limits;
    private final Map<Endpoint, ClientConnection> connections = new HashMap<>();
    private final Set<ServerConnection> accepted = new LinkedHashSet<>();
    private final Stats stats = new Stats();
    private NetServer server;
    private long sweepTimer = -1;

    public ClusterTransport(Vertx vertx, String secret, int frameBytesMax, int pendingPerPeerMax, Handler handler) {
        this(vertx, TransportSettings.of(secret, frameBytesMax, pendingPerPeerMax), handler);
    }

    public ClusterTransport(Vertx vertx, TransportSettings settings, Handler handler) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.settings = settings;
        this.auth = new PeerAuth(settings.secret().orElse(null), new SecureRandom());
        this.handler = handler;
        this.limits = new ConnectionLimits(settings.handshakesMax(), settings.connectionsPerAddressMax());
        NetClientOptions options = new NetClientOptions().setConnectTimeout(2000).setTcpNoDelay(true)
                .setLocalAddress(settings.localAddress().orElse(null));
        settings.tls().ifPresent(t -> t.applyTo(options));
        this.client = vertx.createNetClient(options);
        long sweepMs = Math.max(10, Math.min(settings.idleTimeoutMs() / 4, 1000));
        context.runOnContext(v -> sweepTimer = vertx.setPeriodic(sweepMs, t -> closeIdle()));
    }

    public Stats stats() {
        return stats;
    }

    /** The context every socket of this transport is handled on (tests queue work behind it). */
    Context context() {
        return context;
    }

    /** Starts accepting peers; completes with the bound port. */
    public Future<Integer> listen(String bindHost, int port) {
        Promise<Integer> bound = Promise.promise();
        context.runOnContext(v -> {
            NetServerOptions options = new NetServerOptions().setHost(bindHost).setPort(port).setTcpNoDelay(true)
                    .setSslHandshakeTimeout(settings.handshakeTimeoutMs()).setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
            settings.tls().ifPresent(t -> t.applyTo(options));
            server = vertx.createNetServer(options);
            server.connectHandler(this::accept);
            server.listen().onSuccess(s -> bound.complete(s.actualPort())).onFailure(bound::fail);
        });
        return bound.future();
    }

    /** Sends a request to {@code to}; fails with a {@link TimeoutException} if no response within {@code timeoutMs}. */
    public Future<Message> request(Endpoint to, Message message, long timeoutMs) {
        Promise<Message> result = Promise.promise();
        context.runOnContext(v -> {
            ClientConnection c = connections.get(to);
            if (c == null || c.closed) {
                c = new ClientConnection(to);
                connections.put(to, c);
                c.connect();
            }
            c.send(message, timeoutMs, result);
        });
        return result.future();
    }

    @Override
    public void close() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            vertx.cancelTimer(sweepTimer);
            // close() removes each connection from the map, so walk a copy
            new ArrayList<>(connections.values()).forEach(ClientConnection::close);
            connections.clear();
            Future<Void> s = server == null ? Future.succeededFuture() : server.close();
            s.eventually(() -> client.close()).onComplete(done);
        });
        try {
            done.future().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf(e, "cluster transport did not close cleanly");
        }
    }

    /** Runs {@code r} on this transport's context: at once if already there, else queued to it. */
    private void onContext(Runnable r) {
        if (Vertx.currentContext() == context) {
            r.run();
        } else {
            context.runOnContext(v -> r.run());
        }
    }

    private void accept(NetSocket socket) {
        String address = socket.remoteAddress().hostAddress();
        ConnectionLimits.Admission admission = limits.admit(address);
        if (admission != ConnectionLimits.Admission.ADMITTED) {
            stats.connectionsRefused.incrementAndGet();
            LOG.debugf("refused cluster connection from %s: %s", socket.remoteAddress(),
                    admission == ConnectionLimits.Admission.HANDSHAKES_FULL
                            ? settings.handshakesMax() + " connections are already in their handshake (nimbus.cluster.handshakes-max)"
                            : settings.connectionsPerAddressMax() + " connections from that address are already open "
                            + "(nimbus.cluster.connections-per-address-max)");
            socket.close();
            return;
        }
        new ServerConnection(socket, address).start();
    }

    /** Closes connections idle past their limit; runs on the context every quarter of the idle time-out (at most 1 s). */
    private void closeIdle() {
        long now = System.nanoTime();
        long serverIdleNs = TimeUnit.MILLISECONDS.toNanos(settings.idleTimeoutMs());
        for (ServerConnection s : new ArrayList<>(accepted)) {
            if (s.authenticated && s.inFlight == 0 && now - s.lastActivityNs >= serverIdleNs) {
                stats.idleClosed.incrementAndGet();
                LOG.debugf("closing idle cluster connection from %s", s.socket.remoteAddress());
                s.close();
            }
        }
        long handshakeNs = TimeUnit.MILLISECONDS.toNanos(settings.handshakeTimeoutMs());
        for (ClientConnection c : new ArrayList<>(connections.values())) {
            if (c.ready && c.pending.isEmpty() && now - c.lastActivityNs >= serverIdleNs / 2) {
                stats.idleClosed.incrementAndGet();
                c.close(new IllegalStateException("idle"));
            } else if (!c.ready && now - c.openedNs >= handshakeNs) {
                // a peer that accepted the connection but never completed the handshake: try afresh next time
                stats.handshakeTimeouts.incrementAndGet();
                c.close(new TimeoutException("peer " + c.endpoint + " did not complete the handshake within "
                        + settings.handshakeTimeoutMs() + " ms"));
            }
        }
    }

    /**
     * Splits a socket's bytes into frames: the length prefix is checked against {@code maxLength} (read at
     * each frame, so it grows once the connection authenticates) before any of the frame is buffered.
     * {@code onFrame} gets the length and the bytes after it; a {@link MalformedMessageException} from it,
     * or a bad length, closes the socket, and nothing more is read from it.
     */
    private io.vertx.core.Handler<Buffer> framer(NetSocket socket, Outbox out, java.util.function.IntSupplier maxLength,
                                                 FrameSink onFrame) {
        RecordParser parser = RecordParser.newFixed(4);
        boolean[] header = {true};
        boolean[] dead = {false};
        int[] length = {0};
        parser.handler(buf -> {
            if (dead[0]) {
                return;
            }
            try {
                if (header[0]) {
                    length[0] = Frames.checkLength(buf.getInt(0), maxLength.getAsInt());
                    parser.fixedSizeMode(length[0]);
                    header[0] = false;
                } else {
                    header[0] = true;
                    parser.fixedSizeMode(4);
                    onFrame.accept(length[0], buf);
                }
            } catch (MalformedMessageException e) {
                dead[0] = true;
                stats.malformedFrames.incrementAndGet();
                if (e instanceof FrameMac.BadMacException) {
                    stats.badMacs.incrementAndGet();
                    LOG.warnf("closing cluster connection with %s: %s", socket.remoteAddress(), e.getMessage());
                } else {
                    LOG.debugf("closing cluster connection with %s: %s", socket.remoteAddress(), e.getMessage());
                }
                socket.pause();
                out.flush(); // answers to the valid requests before it still go out
                out.discard();
                socket.close();
            }
        });
        return bytes -> {
            stats.bytesReceived.addAndGet(bytes.length());
            if (!dead[0]) {
                parser.handle(bytes);
            }
        };
    }

    @FunctionalInterface
    private interface FrameSink {
        void accept(int length, Buffer body);
    }

    /** Writes a handshake frame at once, after whatever {@code out} still holds (so frames keep their order). */
    private void write(Outbox out, int kind, long id, int type, byte[] payload, FrameMac mac) {
        out.flush();
        out.writeNow(Frames.encode(kind, id, type, payload, mac));
    }

    /**
     * The frames for one socket after its handshake. The first one in a while is written at once; it queues a
     * flush behind the tasks already queued to this transport's context, and the frames added until that runs
     * go out together in one write (a batch that would pass {@code writeBatchBytesMax} bytes is written first,
     * and a frame of that size or more goes alone, uncopied). Under load that is a group commit's replies, or the requests of the writes that arrived together,
     * in one system call and one wake-up of the peer; a lone frame waits for nothing. Frames keep their order
     * (a MAC's frame counter counts them as encoded). A request counts as sent when it is added: one lost with
     * the connection before the flush is one the peer may have had, never one known unsent. Only touched on this
     * transport's context.
     */
    private final class Outbox {
        private final NetSocket socket;
        private Buffer batch;
        private int batchFrames;
        private boolean flushQueued;
        /** The socket closed: frames are dropped, not written to it or counted as sent. */
        private boolean dead;

        Outbox(NetSocket socket) {
            this.socket = socket;
        }

        void add(int kind, long id, int type, byte[] payload, FrameMac mac) {
            if (dead) {
                return;
            }
            Buffer frame = Frames.encode(kind, id, type, payload, mac);
            int max = settings.writeBatchBytesMax();
            if (max == 0) {
                writeNow(frame);
                return;
            }
            if (!flushQueued) {
                flushQueued = true;
                writeNow(frame);
                context.runOnContext(v -> {
                    flushQueued = false;
                    flush();
                });
                return;
            }
            if (batch != null && batch.length() + frame.length() > max) {
                flush();
            }
            if (frame.length() >= max) {
                writeNow(frame); // not copied into a batch (the ones before it went first)
                return;
            }
            if (batch == null) {
                batch = frame;
            } else {
                batch.appendBuffer(frame);
            }
            batchFrames++;
        }

        void flush() {
            if (batch != null && !dead) {
                Buffer b = batch;
                stats.framesSent.addAndGet(batchFrames);
                batch = null;
                batchFrames = 0;
                stats.bytesSent.addAndGet(b.length());
                stats.socketWrites.incrementAndGet();
                socket.write(b);
            }
        }

        void writeNow(Buffer frame) {
            if (dead) {
                return;
            }
            stats.framesSent.incrementAndGet();
            stats.bytesSent.addAndGet(frame.length());
            stats.socketWrites.incrementAndGet();
            socket.write(frame);
        }

        /** The socket closed (or is closing without its batch): what is still batched is dropped. */
        void discard() {
            dead = true;
            batch = null;
            batchFrames = 0;
        }
    }

    /** Frame length allowed once authenticated: the configured maximum plus the MAC when there is one. */
    private int authenticatedMax() {
        return settings.frameBytesMax() + (auth.required() ? FrameMac.BYTES : 0);
    }

    /** The accepting side: admitted, (TLS,) HELLO, wait for a valid AUTH within the time-out, then serve requests. */
    private final class ServerConnection {
        private final NetSocket socket;
        private final Outbox out;
        private final String address;
        private final byte[] nonce = auth.nonce();
        private boolean authenticated;
        private boolean closed;
        private long handshakeTimer = -1;
        private long lastActivityNs = System.nanoTime();
        private int inFlight;
        private FrameMac receiveMac;
        private FrameMac sendMac;

        ServerConnection(NetSocket socket, String address) {
            this.socket = socket;
            this.out = new Outbox(socket);
            this.address = address;
        }

        void start() {
            accepted.add(this);
            socket.closeHandler(v -> onClosed());
            // an I/O or TLS error is followed by the close, which does the accounting
            socket.exceptionHandler(e -> LOG.debugf("cluster connection from %s: %s", socket.remoteAddress(), e.toString()));
            socket.handler(framer(socket, out, () -> authenticated ? authenticatedMax() : Frames.HANDSHAKE_BYTES_MAX,
                    this::onFrame));
            handshakeTimer = vertx.setTimer(settings.handshakeTimeoutMs(), t -> {
                if (!authenticated && !closed) {
                    stats.handshakeTimeouts.incrementAndGet();
                    LOG.debugf("closing cluster connection from %s: no handshake within %d ms "
                            + "(nimbus.cluster.handshake-timeout-ms)", socket.remoteAddress(), settings.handshakeTimeoutMs());
                    close();
                }
            });
            if (settings.tls().isPresent()) {
                socket.upgradeToSsl().onComplete(ar -> {
                    if (ar.failed()) {
                        if (!closed) {
                            stats.connectionsRejected.incrementAndGet();
                            LOG.warnf("refused cluster connection from %s: TLS handshake failed (%s); a peer must present "
                                    + "a certificate signed by a CA in nimbus.cluster.tls.trust-file", socket.remoteAddress(),
                                    ar.cause().getMessage());
                            close();
                        }
                        return;
                    }
                    hello();
                });
            } else {
                hello();
            }
        }

        private void hello() {
            if (closed) {
                return;
            }
            byte[] payload = new byte[1 + PeerAuth.NONCE_BYTES];
            payload[0] = (byte) (auth.required() ? Frames.FLAG_SECRET : 0);
            System.arraycopy(nonce, 0, payload, 1, PeerAuth.NONCE_BYTES);
            write(out, Frames.HELLO, 0, Frames.PROTOCOL_VERSION, payload, null);
        }

        void close() {
            closed = true;
            out.flush();
            socket.close();
        }

        private void onClosed() {
            if (!accepted.remove(this)) {
                return;
            }
            closed = true;
            out.discard();
            vertx.cancelTimer(handshakeTimer);
            limits.closed(address, !authenticated);
        }

        private void onFrame(int length, Buffer body) {
            if (closed) {
                return;
            }
            lastActivityNs = System.nanoTime();
            if (!authenticated) {
                handshake(Frames.decode(body));
                return;
            }
            Frames.Frame f = Frames.decode(receiveMac == null ? body : receiveMac.verify(length, body));
            if (f.kind() != Frames.REQUEST) {
                throw new MalformedMessageException("unexpected frame kind " + f.kind() + " from a client");
            }
            Future<Message> reply;
            try {
                reply = handler.handle(new Message(f.type(), f.payload()));
            } catch (MalformedMessageException e) {
                throw e;
            } catch (RuntimeException e) {
                reply = Future.failedFuture(e);
            }
            inFlight++;
            // A reply may complete on any thread (a replica's on the store's writer thread): answer on this
            // connection's context, where its frame counter, MAC and bookkeeping live, one frame at a time.
            reply.onComplete(ar -> onContext(() -> answer(f, ar)));
        }

        private void answer(Frames.Frame f, io.vertx.core.AsyncResult<Message> ar) {
            inFlight--;
            lastActivityNs = System.nanoTime();
            if (closed) {
                return;
            }
            if (ar.succeeded()) {
                Message m = ar.result() == null ? Message.EMPTY : ar.result();
                out.add(Frames.RESPONSE, f.id(), m.type(), m.body(), sendMac);
            } else {
                LOG.debugf(ar.cause(), "request of type %d failed", f.type());
                out.add(Frames.FAILURE, f.id(), 0,
                        String.valueOf(ar.cause().getMessage()).getBytes(StandardCharsets.UTF_8), sendMac);
            }
        }

        private void handshake(Frames.Frame f) {
            String refusal = null;
            if (f.kind() != Frames.AUTH) {
                refusal = "no handshake";
            } else if (f.type() != Frames.PROTOCOL_VERSION) {
                refusal = "it speaks cluster protocol version " + f.type() + ", this node " + Frames.PROTOCOL_VERSION
                        + ": run the same Nimbus version on every node";
            } else if (f.payload().length < PeerAuth.NONCE_BYTES || !auth.checkClient(nonce,
                    Arrays.copyOfRange(f.payload(), PeerAuth.NONCE_BYTES, f.payload().length))) {
                refusal = "it does not know nimbus.cluster.secret";
            }
            if (refusal != null) {
                stats.connectionsRejected.incrementAndGet();
                LOG.warnf("refused cluster connection from %s: %s", socket.remoteAddress(), refusal);
                close();
                return;
            }
            byte[] clientNonce = Arrays.copyOfRange(f.payload(), 0, PeerAuth.NONCE_BYTES);
            authenticated = true;
            vertx.cancelTimer(handshakeTimer);
            limits.authenticated();
            write(out, Frames.AUTH_OK, 0, 0, auth.serverProof(clientNonce), null);
            if (auth.required()) {
                PeerAuth.SessionKeys keys = auth.sessionKeys(nonce, clientNonce);
                receiveMac = new FrameMac(keys.clientToServer());
                sendMac = new FrameMac(keys.serverToClient());
            }
        }
    }

    /** The connecting side: queues requests until the handshake completes, then matches responses by id. */
    private final class ClientConnection {
        private final Endpoint endpoint;
        private final byte[] nonce = auth.nonce();
        private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
        private final Map<Long, Promise<Message>> pending = new HashMap<>();
        /** Ids of pending requests not written to the socket yet (waiting for the handshake). */
        private final java.util.Set<Long> unwritten = new java.util.HashSet<>();
        private long nextId = 1;
        private NetSocket socket;
        private Outbox out;
        private boolean ready;
        private final long openedNs = System.nanoTime();
        private long lastActivityNs = openedNs;
        private FrameMac sendMac;
        private FrameMac receiveMac;
        private boolean helloSeen;
        private byte[] serverNonce;
        /** The peer asked for a secret this node lacks: it will refuse the empty proof (said when it closes). */
        private boolean peerWantsMissingSecret;
        private Throwable lastError;
        boolean closed;

        ClientConnection(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        void connect() {
            client.connect(endpoint.port(), endpoint.host()).onComplete(ar -> {
                if (ar.failed()) {
                    fail(settings.tls().isPresent() && !(ar.cause() instanceof java.net.ConnectException)
                            ? new IllegalStateException("peer " + endpoint + " failed during the handshake (TLS): "
                            + ar.cause().getMessage() + "; check that both nodes' nimbus.cluster.tls.trust-file holds "
                            + "the CA of the other's certificate", ar.cause())
                            : ar.cause());
                    return;
                }
                socket = ar.result();
                out = new Outbox(socket);
                if (closed) {
                    socket.close();
                    return;
                }
                socket.handler(framer(socket, out, () -> ready ? authenticatedMax() : Frames.HANDSHAKE_BYTES_MAX,
                        this::onFrame));
                // an I/O or TLS error (e.g. the peer refusing this node's certificate) is followed by the close
                socket.exceptionHandler(e -> {
                    LOG.debugf("cluster connection to %s: %s", endpoint, e.toString());
                    lastError = e;
                });
                socket.closeHandler(v -> fail(closedCause()));
            });
        }

        /** Why the connection closed, as its pending requests fail with it. */
        private IllegalStateException closedCause() {
            if (ready) {
                return new IllegalStateException("connection to " + endpoint + " closed");
            }
            String prefix = "peer " + endpoint + " closed the connection during the handshake: ";
            if (lastError != null) {
                return new IllegalStateException(prefix + lastError.getMessage(), lastError);
            }
            return new IllegalStateException(prefix + (peerWantsMissingSecret
                    ? "it requires nimbus.cluster.secret and this node has none"
                    : "it refused this node's proof of nimbus.cluster.secret or its TLS certificate, it runs another "
                    + "protocol version, or it is not a Nimbus cluster port"));
        }

        void send(Message m, long timeoutMs, Promise<Message> result) {
            if (pending.size() >= settings.pendingPerPeerMax()) { // (a request waiting for the handshake is pending too)
                result.fail(new RequestNotSentException(settings.pendingPerPeerMax() + " requests already in flight to "
                        + endpoint, null));
                return;
            }
            lastActivityNs = System.nanoTime();
            long id = nextId++;
            pending.put(id, result);
            long timer = vertx.setTimer(timeoutMs, t -> {
                Promise<Message> p = pending.remove(id);
                if (p != null) {
                    TimeoutException late = new TimeoutException("no answer from " + endpoint + " within " + timeoutMs
                            + " ms");
                    p.fail(unwritten.remove(id) ? new RequestNotSentException("not sent to " + endpoint
                            + ": no connection to it within " + timeoutMs + " ms", late) : late);
                }
            });
            result.future().onComplete(x -> vertx.cancelTimer(timer));
            Runnable write = () -> {
                unwritten.remove(id);
                if (pending.containsKey(id)) {
                    out.add(Frames.REQUEST, id, m.type(), m.body(), sendMac);
                }
            };
            if (ready) {
                write.run();
            } else {
                unwritten.add(id);
                waiting.add(write);
            }
        }

        private void onFrame(int length, Buffer body) {
            lastActivityNs = System.nanoTime();
            if (!ready) {
                handshake(Frames.decode(body));
                return;
            }
            Frames.Frame f = Frames.decode(receiveMac == null ? body : receiveMac.verify(length, body));
            Promise<Message> p = pending.remove(f.id());
            if (p == null) {
                return; // answered after its time-out: already failed
            }
            if (f.kind() == Frames.RESPONSE) {
                p.complete(new Message(f.type(), f.payload()));
            } else if (f.kind() == Frames.FAILURE) {
                p.fail(new PeerFailedRequestException("peer " + endpoint + " failed the request: "
                        + new String(f.payload(), StandardCharsets.UTF_8)));
            } else {
                throw new MalformedMessageException("unexpected frame kind " + f.kind() + " from a server");
            }
        }

        private void handshake(Frames.Frame f) {
            if (f.kind() == Frames.HELLO && !helloSeen) {
                helloSeen = true;
                if (f.type() != Frames.PROTOCOL_VERSION) {
                    throw handshakeFailure("it speaks cluster protocol version " + f.type() + ", this node "
                            + Frames.PROTOCOL_VERSION + ": run the same Nimbus version on every node");
                }
                if (f.payload().length != 1 + PeerAuth.NONCE_BYTES) {
                    throw handshakeFailure("its HELLO has " + f.payload().length + " bytes");
                }
                boolean peerWantsSecret = (f.payload()[0] & Frames.FLAG_SECRET) != 0;
                if (auth.required() && !peerWantsSecret) {
                    throw handshakeFailure("it has no nimbus.cluster.secret, this node has one");
                }
                // a peer that wants a secret this node lacks gets an empty proof: it refuses it, and says so in its log
                peerWantsMissingSecret = peerWantsSecret && !auth.required();
                serverNonce = Arrays.copyOfRange(f.payload(), 1, f.payload().length);
                byte[] proof = auth.clientProof(serverNonce);
                byte[] payload = new byte[PeerAuth.NONCE_BYTES + proof.length];
                System.arraycopy(nonce, 0, payload, 0, PeerAuth.NONCE_BYTES);
                System.arraycopy(proof, 0, payload, PeerAuth.NONCE_BYTES, proof.length);
                write(out, Frames.AUTH, 0, Frames.PROTOCOL_VERSION, payload, null);
                return;
            }
            if (f.kind() == Frames.AUTH_OK && helloSeen && auth.checkServer(nonce, f.payload())) {
                if (auth.required()) {
                    PeerAuth.SessionKeys keys = auth.sessionKeys(serverNonce, nonce);
                    sendMac = new FrameMac(keys.clientToServer());
                    receiveMac = new FrameMac(keys.serverToClient());
                }
                ready = true;
                while (!waiting.isEmpty()) {
                    waiting.poll().run();
                }
                return;
            }
            throw handshakeFailure("its handshake does not check out (wrong nimbus.cluster.secret?)");
        }

        private MalformedMessageException handshakeFailure(String why) {
            stats.connectionsRejected.incrementAndGet();
            String message = "peer " + endpoint + " failed during the handshake: " + why;
            LOG.debug(message);
            fail(new IllegalStateException(message));
            return new MalformedMessageException(message);
        }

        private void fail(Throwable cause) {
            closed = true;
            if (out != null) {
                out.discard();
            }
            if (connections.get(endpoint) == this) {
                connections.remove(endpoint);
            }
            waiting.clear();
            for (Map.Entry<Long, Promise<Message>> e : pending.entrySet()) {
                e.getValue().tryFail(unwritten.contains(e.getKey())
                        ? new RequestNotSentException("not sent to " + endpoint + ": " + cause.getMessage(), cause)
                        : cause);
            }
            pending.clear();
            unwritten.clear();
        }

        void close() {
            close(new IllegalStateException("transport closed"));
        }

        void close(Exception cause) {
            closed = true;
            if (socket != null) {
                out.flush();
                socket.close();
            }
            fail(cause);
        }
    }
}
