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
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The internal transport on {@code nimbus.cluster.port}: Vert.x TCP, length-prefixed frames
 * ({@link Frames}), an authenticated handshake ({@link PeerAuth}), and requests matched to responses
 * by correlation id, so concurrent requests on one connection never cross. One connection per peer,
 * opened on first use and reopened after it closes. A frame that is malformed, oversized or out of
 * turn closes its connection; the node goes on.
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
        final AtomicLong malformedFrames = new AtomicLong();

        public long bytesSent() {
            return bytesSent.get();
        }

        public long bytesReceived() {
            return bytesReceived.get();
        }

        public long connectionsRejected() {
            return connectionsRejected.get();
        }

        public long malformedFrames() {
            return malformedFrames.get();
        }
    }

    private final Vertx vertx;
    private final Context context;
    private final PeerAuth auth;
    private final int frameBytesMax;
    private final int pendingPerPeerMax;
    private final Handler handler;
    private final NetClient client;
    private final Map<Endpoint, ClientConnection> connections = new HashMap<>();
    private final Stats stats = new Stats();
    private NetServer server;

    public ClusterTransport(Vertx vertx, String secret, int frameBytesMax, int pendingPerPeerMax, Handler handler) {
        this(vertx, secret, frameBytesMax, pendingPerPeerMax, handler, null);
    }

    /** {@code localAddress}: source address of connections to peers (null: the kernel's choice). */
    public ClusterTransport(Vertx vertx, String secret, int frameBytesMax, int pendingPerPeerMax, Handler handler,
                            String localAddress) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.auth = new PeerAuth(secret, new SecureRandom());
        this.frameBytesMax = frameBytesMax;
        this.pendingPerPeerMax = pendingPerPeerMax;
        this.handler = handler;
        this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(2000).setTcpNoDelay(true)
                .setLocalAddress(localAddress));
    }

    public Stats stats() {
        return stats;
    }

    /** Starts accepting peers; completes with the bound port. */
    public Future<Integer> listen(String bindHost, int port) {
        Promise<Integer> bound = Promise.promise();
        context.runOnContext(v -> {
            server = vertx.createNetServer(new NetServerOptions().setHost(bindHost).setPort(port).setTcpNoDelay(true));
            server.connectHandler(socket -> new ServerConnection(socket).start());
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
            // close() removes each connection from the map, so walk a copy
            new java.util.ArrayList<>(connections.values()).forEach(ClientConnection::close);
            connections.clear();
            Future<Void> s = server == null ? Future.succeededFuture() : server.close();
            s.eventually(() -> client.close()).onComplete(done);
        });
        try {
            done.future().toCompletionStage().toCompletableFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf(e, "cluster transport did not close cleanly");
        }
    }

    /** Splits a socket's bytes into frames, refusing bad lengths. */
    private RecordParser framer(NetSocket socket, Consumer<Frames.Frame> onFrame) {
        RecordParser parser = RecordParser.newFixed(4);
        boolean[] header = {true};
        parser.handler(buf -> {
            stats.bytesReceived.addAndGet(buf.length());
            try {
                if (header[0]) {
                    parser.fixedSizeMode(Frames.checkLength(buf.getInt(0), frameBytesMax));
                    header[0] = false;
                } else {
                    header[0] = true;
                    parser.fixedSizeMode(4);
                    onFrame.accept(Frames.decode(buf));
                }
            } catch (MalformedMessageException e) {
                stats.malformedFrames.incrementAndGet();
                LOG.debugf("closing connection from %s: %s", socket.remoteAddress(), e.getMessage());
                socket.close();
            }
        });
        return parser;
    }

    private void write(NetSocket socket, int kind, long id, int type, byte[] payload) {
        Buffer b = Frames.encode(kind, id, type, payload);
        stats.bytesSent.addAndGet(b.length());
        socket.write(b);
    }

    /** The accepting side: HELLO, wait for a valid AUTH, then serve requests. */
    private final class ServerConnection {
        private final NetSocket socket;
        private final byte[] nonce = auth.nonce();
        private boolean authenticated;

        ServerConnection(NetSocket socket) {
            this.socket = socket;
        }

        void start() {
            socket.handler(framer(socket, this::onFrame));
            write(socket, Frames.HELLO, 0, auth.required() ? 1 : 0, nonce);
        }

        private void onFrame(Frames.Frame f) {
            if (!authenticated) {
                if (f.kind() != Frames.AUTH || f.payload().length < PeerAuth.NONCE_BYTES
                        || !auth.checkClient(nonce, Arrays.copyOfRange(f.payload(), PeerAuth.NONCE_BYTES, f.payload().length))) {
                    stats.connectionsRejected.incrementAndGet();
                    LOG.warnf("refused cluster connection from %s: %s", socket.remoteAddress(),
                            f.kind() == Frames.AUTH ? "it does not know nimbus.cluster.secret" : "no handshake");
                    socket.close();
                    return;
                }
                byte[] clientNonce = Arrays.copyOfRange(f.payload(), 0, PeerAuth.NONCE_BYTES);
                authenticated = true;
                write(socket, Frames.AUTH_OK, 0, 0, auth.serverProof(clientNonce));
                return;
            }
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
            reply.onComplete(ar -> {
                if (ar.succeeded()) {
                    Message m = ar.result() == null ? Message.EMPTY : ar.result();
                    write(socket, Frames.RESPONSE, f.id(), m.type(), m.body());
                } else {
                    LOG.debugf(ar.cause(), "request of type %d failed", f.type());
                    write(socket, Frames.FAILURE, f.id(), 0,
                            String.valueOf(ar.cause().getMessage()).getBytes(StandardCharsets.UTF_8));
                }
            });
        }
    }

    /** The connecting side: queues requests until the handshake completes, then matches responses by id. */
    private final class ClientConnection {
        private final Endpoint endpoint;
        private final byte[] nonce = auth.nonce();
        private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
        private final Map<Long, Promise<Message>> pending = new HashMap<>();
        private long nextId = 1;
        private NetSocket socket;
        private boolean ready;
        boolean closed;

        ClientConnection(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        void connect() {
            client.connect(endpoint.port(), endpoint.host()).onComplete(ar -> {
                if (ar.failed()) {
                    fail(ar.cause());
                    return;
                }
                socket = ar.result();
                if (closed) {
                    socket.close();
                    return;
                }
                socket.handler(framer(socket, this::onFrame));
                socket.closeHandler(v -> fail(new IllegalStateException(ready ? "connection to " + endpoint + " closed"
                        : "peer " + endpoint + " closed the connection during the handshake: it refused this "
                        + "node's proof of nimbus.cluster.secret, or it is not a Nimbus cluster port")));
            });
        }

        void send(Message m, long timeoutMs, Promise<Message> result) {
            if (pending.size() + waiting.size() >= pendingPerPeerMax) {
                result.fail(new IllegalStateException(pendingPerPeerMax + " requests already in flight to " + endpoint));
                return;
            }
            long id = nextId++;
            pending.put(id, result);
            long timer = vertx.setTimer(timeoutMs, t -> {
                Promise<Message> p = pending.remove(id);
                if (p != null) {
                    p.fail(new TimeoutException("no answer from " + endpoint + " within " + timeoutMs + " ms"));
                }
            });
            result.future().onComplete(x -> vertx.cancelTimer(timer));
            Runnable write = () -> {
                if (pending.containsKey(id)) {
                    write(socket, Frames.REQUEST, id, m.type(), m.body());
                }
            };
            if (ready) {
                write.run();
            } else {
                waiting.add(write);
            }
        }

        private void onFrame(Frames.Frame f) {
            if (!ready) {
                if (f.kind() == Frames.HELLO) {
                    byte[] payload = new byte[PeerAuth.NONCE_BYTES + auth.clientProof(f.payload()).length];
                    System.arraycopy(nonce, 0, payload, 0, PeerAuth.NONCE_BYTES);
                    byte[] proof = auth.clientProof(f.payload());
                    System.arraycopy(proof, 0, payload, PeerAuth.NONCE_BYTES, proof.length);
                    write(socket, Frames.AUTH, 0, 0, payload);
                    return;
                }
                if (f.kind() == Frames.AUTH_OK && auth.checkServer(nonce, f.payload())) {
                    ready = true;
                    while (!waiting.isEmpty()) {
                        waiting.poll().run();
                    }
                    return;
                }
                throw new MalformedMessageException("peer " + endpoint + " failed the handshake");
            }
            Promise<Message> p = pending.remove(f.id());
            if (p == null) {
                return; // answered after its time-out: already failed
            }
            if (f.kind() == Frames.RESPONSE) {
                p.complete(new Message(f.type(), f.payload()));
            } else if (f.kind() == Frames.FAILURE) {
                p.fail(new IllegalStateException("peer " + endpoint + " failed the request: "
                        + new String(f.payload(), StandardCharsets.UTF_8)));
            } else {
                throw new MalformedMessageException("unexpected frame kind " + f.kind() + " from a server");
            }
        }

        private void fail(Throwable cause) {
            closed = true;
            if (connections.get(endpoint) == this) {
                connections.remove(endpoint);
            }
            waiting.clear();
            for (Promise<Message> p : pending.values()) {
                p.tryFail(cause);
            }
            pending.clear();
        }

        void close() {
            closed = true;
            if (socket != null) {
                socket.close();
            }
            fail(new IllegalStateException("transport closed"));
        }
    }
}
