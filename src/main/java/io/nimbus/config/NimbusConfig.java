package io.nimbus.config;

import io.nimbus.core.gossip.GossipSettings;
import io.nimbus.core.gossip.NodeRole;
import io.nimbus.core.kv.ConsistencyLevel;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Every {@code nimbus.*} setting (DESIGN §4). Names that arrive with later steps (cluster, gossip,
 * ring) are added with the code that reads them, so that no setting exists that does nothing.
 */
@ConfigMapping(prefix = "nimbus")
public interface NimbusConfig {

    Node node();

    /** {@code worker} stores data; {@code proxy} holds no data and only routes. */
    @WithDefault("worker")
    NodeRole role();

    /** Directory for the MapDB files, the write-ahead log and the lock (workers). */
    @WithName("data-dir")
    @WithDefault("./data")
    String dataDir();

    /**
     * Replicas per key, fixed in the topology when the cluster is founded; a node whose setting differs
     * says so once and uses the cluster's. While fewer workers exist, every worker holds every key.
     */
    @WithName("replication-factor")
    @WithDefault("3")
    int replicationFactor();

    /** Consistency level of requests that do not say {@code ?consistency=}. */
    @WithDefault("QUORUM")
    ConsistencyLevel consistency();

    Limits limits();

    Http http();

    /**
     * The public HTTP edge: limits Nimbus enforces itself, with a problem body, below the HTTP codec's own
     * ({@code quarkus.http.limits.*}, which refuse with a bare status), and the time a request body may take.
     */
    interface Http {
        /** Longest request target (path and query as sent); beyond it 414. A 1024-byte key percent-encoded is 3072. */
        @WithName("max-target-bytes")
        @WithDefault("8192")
        int maxTargetBytes();

        /** Largest request head (every header line); beyond it 431. */
        @WithName("max-header-bytes")
        @WithDefault("16384")
        int maxHeaderBytes();

        /**
         * How long a request's body may take to arrive once its head has; then 408 and the connection is
         * closed (a slow or stalled upload). Waiting for a quorum is bounded by {@code limits.write-timeout-ms}.
         */
        @WithName("body-timeout-ms")
        @WithDefault("30000")
        long bodyTimeoutMs();

        /**
         * After an answer that leaves the request body unread (a 413, a refusal), how much more of it is
         * read and thrown away so that the client, still sending, can read the answer; beyond this (or
         * after {@code body-timeout-ms}) the connection is closed.
         */
        @WithName("max-drain-bytes")
        @WithDefault("2097152")
        long maxDrainBytes();
    }

    Cluster cluster();

    Ring ring();

    interface Ring {
        /** Virtual nodes (tokens) per worker, chosen once when the worker first joins. */
        @WithDefault("16")
        int tokens();
    }

    Gossip gossip();

    Peer peer();

    /**
     * The fault-tolerance guard on every call to a peer (docs/ARCHITECTURE.md, "Fault tolerance on peer
     * calls"): per peer a circuit breaker, a bulkhead and a time-out ceiling for Paxos, topology and stream
     * calls, and a separate bulkhead and time-out (no breaker) for gossip.
     */
    interface Peer {
        /**
         * Ceiling on any guarded peer call. Each call keeps its own, shorter time-out (a Paxos phase, a
         * stream chunk), which fails it first; this one bounds a call whose own never fires. Must be at
         * least the longest of those (start-up refuses otherwise).
         */
        @WithName("timeout-ms")
        @WithDefault("30000")
        long timeoutMs();

        Breaker breaker();

        interface Breaker {
            /** Share of failed calls among the last {@code request-volume} that opens a peer's breaker. */
            @WithName("failure-ratio")
            @WithDefault("0.5")
            double failureRatio();

            /** Calls in the breaker's rolling window (none opens it before this many were made). */
            @WithName("request-volume")
            @WithDefault("10")
            int requestVolume();

            /** How long an open breaker refuses calls before it lets one trial call through (half-open). */
            @WithName("delay-ms")
            @WithDefault("2000")
            long delayMs();
        }

        Bulkhead bulkhead();

        interface Bulkhead {
            /** Calls in flight to one peer at once (Paxos, topology, stream). */
            @WithName("calls-max")
            @WithDefault("256")
            int callsMax();

            /** Calls waiting for a slot to one peer; beyond it a call is refused at once (at least 1). */
            @WithName("queue-max")
            @WithDefault("16")
            int queueMax();
        }

        Gossip gossip();

        interface Gossip {
            /** Gossip messages in flight to one peer at once; more are refused at once (counted as no answer). */
            @WithName("calls-max")
            @WithDefault("4")
            int callsMax();
        }
    }

    Paxos paxos();

    Stream stream();

    /** Streaming of rows to a topology operation's pending replicas (TOPOLOGY.md §7). */
    interface Stream {
        /** Most rows in one streamed chunk (each chunk is one group commit on the receiver). */
        @WithName("chunk-rows-max")
        @WithDefault("256")
        int chunkRowsMax();

        /** About how many bytes of rows one chunk carries (at least one row; never above half a cluster frame). */
        @WithName("chunk-bytes-max")
        @WithDefault("1048576")
        int chunkBytesMax();

        /** How long a source has to answer one chunk request. */
        @WithName("chunk-timeout-ms")
        @WithDefault("10000")
        long chunkTimeoutMs();

        /** Attempts per source and chunk before the receiver tries another source (with a 500 ms pause between). */
        @WithName("chunk-attempts-max")
        @WithDefault("3")
        int chunkAttemptsMax();

        /**
         * Range sync: how often a worker copies the committed values of its ranges from the other replicas
         * (anti-entropy; also run once shortly after every start). 0 turns the schedule off (the run after a
         * start still happens).
         */
        @WithName("sync-interval-ms")
        @WithDefault("600000")
        long syncIntervalMs();

        /** Range sync: how long after a start (once this worker is a member) the first sync runs. */
        @WithName("sync-after-start-ms")
        @WithDefault("3000")
        long syncAfterStartMs();
    }

    /** The coordinator's rounds (DESIGN §2). */
    interface Paxos {
        /** How long one replica has to answer one phase (prepare, accept, commit) before it counts as silent. */
        @WithName("phase-timeout-ms")
        @WithDefault("1000")
        long phaseTimeoutMs();

        /** Attempts per request when rival ballots pre-empt it; then 504 (nothing was written). */
        @WithName("attempts-max")
        @WithDefault("10")
        int attemptsMax();

        /** Randomized backoff before a retry: uniform in [0, min(backoff-max-ms, backoff-base-ms * 2^attempt)]. */
        @WithName("backoff-base-ms")
        @WithDefault("2")
        long backoffBaseMs();

        @WithName("backoff-max-ms")
        @WithDefault("200")
        long backoffMaxMs();

        /**
         * How far ahead of this node's clock a ballot it receives may be (ballot counters are wall-clock
         * microseconds). A Paxos message carrying a ballot further ahead is refused as forged or corrupt: a
         * request never reaches the acceptor (the connection is closed), a reply counts as no answer. Must
         * exceed the clock skew between nodes.
         */
        @WithName("ballot-ahead-max-ms")
        @WithDefault("3600000")
        long ballotAheadMaxMs();

        /**
         * Whether a compare-and-set waiting on a key at this coordinator goes ahead of the blind writes
         * waiting there ({@code false}: first come, first served). On a hot key with blind writers a
         * compare-and-set otherwise almost never succeeds: every blind write queued between its read and
         * its write changes the version it compares (docs/PAXOS.md, "Contention").
         */
        @WithName("compares-first")
        @WithDefault("true")
        boolean comparesFirst();

        /** Requests this node coordinates at once; beyond this a request gets 503 at once. */
        @WithName("in-flight-max")
        @WithDefault("4096")
        int inFlightMax();

        /**
         * How long a commit owed to a peer (not waited for: the client was answered when a quorum accepted)
         * waits for a request to that peer to ride with before it is sent in a frame of its own, with whatever
         * else is owed to that peer by then. 0 (the default): as soon as the event loop gets to it, so it goes
         * with the other commits owed in the same turn; a longer wait measured no faster (docs/PERFORMANCE.md)
         * and leaves reads at ONE stale for longer.
         */
        @WithName("commit-linger-ms")
        @WithDefault("0")
        long commitLingerMs();

        /**
         * Bytes of commits that may be owed to one peer again after its bulkhead refused to send them (they wait
         * for the next request to it, or a flush a little later); refused commits beyond this are dropped, as are
         * those its open breaker refuses (a lost commit is a lost message: the key's next prepare finishes the
         * value). Counted in {@code nimbus_paxos_commits_dropped_total}.
         */
        @WithName("commits-owed-bytes-max")
        @WithDefault("8388608")
        long commitsOwedBytesMax();

        /**
         * Key-affine coordination (docs/PAXOS.md "One coordinator per key"): a write at QUORUM or ALL is forwarded
         * to the key's first natural replica that this node does not think down, which coordinates it, so that
         * one node writes each key and its next write skips the prepare (terms-max). A forward that never left
         * this node is coordinated here instead; one sent and not answered is outcome unknown. false: every node
         * coordinates the writes it receives.
         */
        @WithName("forward-writes")
        @WithDefault("true")
        boolean forwardWrites();

        /**
         * Keys on which this coordinator holds a term at most (docs/PAXOS.md "One round trip"): a ballot a quorum
         * promised it, so that its next write to the key skips the prepare. Beyond this an arbitrary key's term is
         * dropped (that key's next write prepares). 0: every write prepares. About 200 bytes per key.
         */
        @WithName("terms-max")
        @WithDefault("16384")
        int termsMax();
    }

    interface Cluster {
        /** Internal port for gossip (and later Paxos); default: the HTTP port + 1000. */
        OptionalInt port();

        /** Address peers use to reach this node's cluster port. */
        @WithDefault("127.0.0.1")
        String host();

        /**
         * Address the cluster port binds to; default {@code nimbus.cluster.host}. When set, also the source
         * address of this node's connections to peers.
         */
        @WithName("bind-host")
        Optional<String> bindHost();

        /** {@code host:cluster-port} list to catch up from; empty: alone. */
        Optional<List<String>> seeds();

        /**
         * May this worker found a new cluster when its store has never held a topology? {@code true},
         * {@code false}, or a node id (only the worker of that name may: one setting for every pod of a
         * StatefulSet). Default: only when no seeds other than itself are configured and discovery is not
         * multicast (there every node starts seedless: name the founder). A worker allowed to
         * found that has other seeds first listens for {@code bootstrap-wait-rounds} gossip rounds and
         * joins instead if a peer holds a topology. Every other node waits until it fetched one.
         */
        Optional<String> bootstrap();

        /** Gossip rounds a worker allowed to found a cluster waits for a peer that already holds one. */
        @WithName("bootstrap-wait-rounds")
        @WithDefault("5")
        int bootstrapWaitRounds();

        /** {@code seeds} or {@code multicast}. */
        @WithDefault("seeds")
        Discovery discovery();

        /** {@code group:port} for multicast discovery. */
        @WithName("multicast-group")
        @WithDefault("239.192.77.77:7946")
        String multicastGroup();

        /** Network interface for multicast; default: the one holding {@code nimbus.cluster.host}. */
        @WithName("multicast-interface")
        Optional<String> multicastInterface();

        /**
         * Shared secret peers must prove on connect; with it every frame after the handshake also carries a
         * MAC under a per-connection key. Unset and no {@link #tls() TLS}: no peer authentication, which a
         * node accepts only when its cluster port binds to a loopback address (it refuses to start otherwise).
         */
        Optional<String> secret();

        /** Mutual TLS on the cluster port (the recommended mode off loopback); may be combined with the secret. */
        Tls tls();

        /**
         * Mutual TLS: this node presents {@code cert-file} (with {@code key-file}) to its peers and accepts a
         * peer, in both directions, only if its certificate chains to a CA in {@code trust-file}. All three
         * are PEM files; set all three or none.
         */
        interface Tls {
            /** This node's certificate chain (PEM). */
            @WithName("cert-file")
            Optional<String> certFile();

            /** The private key of {@code cert-file} (PEM, PKCS#8 or PKCS#1). */
            @WithName("key-file")
            Optional<String> keyFile();

            /** The CA certificates a peer's certificate must chain to (PEM bundle). */
            @WithName("trust-file")
            Optional<String> trustFile();
        }

        /** Largest internal frame (after the handshake; before it, a few hundred bytes at most). */
        @WithName("frame-bytes-max")
        @WithDefault("16777216")
        int frameBytesMax();

        /** Most requests in flight to one peer. */
        @WithName("pending-per-peer-max")
        @WithDefault("1024")
        int pendingPerPeerMax();

        /**
         * Frames for one peer connection are gathered until the tasks already queued to the transport have run,
         * then written to the socket in one write, at most this many bytes at a time: a group commit's replies,
         * and the requests of writes that arrive together, cost one system call and one wake-up of the peer
         * instead of one each. 0: every frame is written and flushed on its own.
         */
        @WithName("write-batch-bytes-max")
        @WithDefault("65536")
        int writeBatchBytesMax();

        /**
         * An accepted connection that has not completed the handshake (TLS included) by then is closed; so is this
         * node's own connection to a peer that has not completed it (the next request opens a new one).
         */
        @WithName("handshake-timeout-ms")
        @WithDefault("5000")
        long handshakeTimeoutMs();

        /**
         * An accepted connection that carries no frame for this long is closed; a node closes its own idle
         * connections to peers after half of it (so the accepting side's close never races a request) and
         * reopens them on next use.
         */
        @WithName("idle-timeout-ms")
        @WithDefault("60000")
        long idleTimeoutMs();

        /**
         * Accepted connections still in their handshake at once; beyond this a new one is closed at once. Twice
         * {@code connections-per-address-max} by default, so one remote address cannot take every slot.
         */
        @WithName("handshakes-max")
        @WithDefault("128")
        int handshakesMax();

        /**
         * Accepted connections from one remote IP address at once (handshaking or not). A peer needs one (two
         * while it reconnects); peers on one host share an address (127.0.0.1 on loopback unless bind-host is
         * set), so raise it past 64 only for clusters of more than ~30 nodes behind one address.
         */
        @WithName("connections-per-address-max")
        @WithDefault("64")
        int connectionsPerAddressMax();
    }

    enum Discovery {
        SEEDS, MULTICAST
    }

    interface Gossip {
        /** {@code random} or {@code round-robin}. */
        @WithDefault("random")
        GossipSettings.Strategy strategy();

        /** One gossip round. */
        @WithDefault("1s")
        Duration interval();

        /** A peer whose heartbeat has not advanced for this long is unreachable. */
        @WithName("failure-timeout")
        @WithDefault("5s")
        Duration failureTimeout();

        /** A peer that leaves this many spreads in a row unanswered is unreachable. */
        @WithName("missed-acks-max")
        @WithDefault("3")
        int missedAcksMax();

        /** Most node states in one message (the gossip fan-in bound). */
        @WithName("states-per-message-max")
        @WithDefault("256")
        int statesPerMessageMax();

        /** Most digests in one spread. */
        @WithName("digests-per-message-max")
        @WithDefault("4096")
        int digestsPerMessageMax();

        /**
         * How far ahead of this node's clock a gossiped generation may be (generations are wall-clock
         * milliseconds at a node's start). A gossip message carrying one further ahead is refused as forged
         * or corrupt (the connection is closed): a state under such a generation would outrank the node's
         * real state until its clock caught up. Must exceed the clock skew between nodes.
         */
        @WithName("generation-ahead-max-ms")
        @WithDefault("3600000")
        long generationAheadMaxMs();

        /** Longest wait between catch-up attempts while no seed answers. */
        @WithName("seed-backoff-max")
        @WithDefault("30s")
        Duration seedBackoffMax();
    }

    Storage storage();

    interface Storage {
        /** How often MapDB is committed so the write-ahead log can be truncated (bounds replay at start-up). */
        @WithName("checkpoint-interval-ms")
        @WithDefault("1000")
        long checkpointIntervalMs();

        /** A write-ahead log segment this large forces a checkpoint before the interval. */
        @WithName("wal-segment-bytes-max")
        @WithDefault("67108864")
        long walSegmentBytesMax();

        /**
         * Writes are refused (503 {@code disk-full}) when fewer bytes than this would stay free on the data
         * directory's disk; they resume by themselves once space is back.
         */
        @WithName("disk-free-bytes-min")
        @WithDefault("67108864")
        long diskFreeBytesMin();

        /**
         * A file of this size kept in the data directory holds room for a checkpoint when the disk fills up
         * anyway; no writes are taken while it cannot be kept. At least 4 MiB, and 4 × the largest value
         * plus 2 MiB so that a checkpoint of one full-size write always fits.
         */
        @WithName("disk-reserve-bytes")
        @WithDefault("67108864")
        long diskReserveBytes();

        /**
         * About how many bytes of decoded rows a worker keeps in memory besides those written since the last
         * checkpoint (which it always holds): reads and Paxos decisions on them skip MapDB. 0 keeps only the
         * rows not checkpointed yet.
         */
        @WithName("row-cache-bytes-max")
        @WithDefault("33554432")
        long rowCacheBytesMax();
    }

    Api api();

    /** The public (client) HTTP API. */
    interface Api {
        Auth auth();

        /** Client authentication: bearer tokens with roles read, write, admin (README "Security"). */
        interface Auth {
            /** Off by default so a single dev node needs no setup; every deployment should turn it on. */
            @WithDefault("false")
            boolean enabled();

            /**
             * File of {@code <sha-256 of the token, hex>  <role>[,<role>]  [name]} lines, read at start-up;
             * required when enabled.
             */
            @WithName("tokens-file")
            Optional<String> tokensFile();
        }
    }

    interface Node {
        /** Stable node name; default {@code <hostname>-<http port>}. */
        Optional<String> id();
    }

    interface Limits {
        /** Largest key, in UTF-8 bytes after percent-decoding. */
        @WithName("max-key-bytes")
        @WithDefault("1024")
        int maxKeyBytes();

        /** Largest value, in bytes. */
        @WithName("max-value-bytes")
        @WithDefault("1048576")
        int maxValueBytes();

        /** Writes waiting for the group commit; beyond this a write gets 503 at once. */
        @WithName("write-queue-max")
        @WithDefault("10000")
        int writeQueueMax();

        /** Most writes made durable by one commit (one fsync). */
        @WithName("write-batch-max")
        @WithDefault("512")
        int writeBatchMax();

        /**
         * How long a request may take to reach its consistency level before answering 504 (for a write
         * whose value may have been accepted: outcome unknown).
         */
        @WithName("write-timeout-ms")
        @WithDefault("5000")
        long writeTimeoutMs();
    }
}
