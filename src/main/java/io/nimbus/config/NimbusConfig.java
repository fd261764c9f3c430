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

    Cluster cluster();

    Ring ring();

    interface Ring {
        /** Virtual nodes (tokens) per worker, chosen once when the worker first joins. */
        @WithDefault("16")
        int tokens();
    }

    Gossip gossip();

    Paxos paxos();

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

        /** Shared secret peers must prove on connect; unset: no authentication (loopback development). */
        Optional<String> secret();

        /** Largest internal frame. */
        @WithName("frame-bytes-max")
        @WithDefault("16777216")
        int frameBytesMax();

        /** Most requests in flight to one peer. */
        @WithName("pending-per-peer-max")
        @WithDefault("1024")
        int pendingPerPeerMax();
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
