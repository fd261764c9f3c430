package io.nimbus.config;

import io.nimbus.core.kv.ConsistencyLevel;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import java.util.Optional;

/**
 * Every {@code nimbus.*} setting (DESIGN §4). Names that arrive with later steps (cluster, gossip,
 * ring) are added with the code that reads them, so that no setting exists that does nothing.
 */
@ConfigMapping(prefix = "nimbus")
public interface NimbusConfig {

    Node node();

    /** {@code worker} stores data; {@code proxy} (coming with gossip) only routes. */
    @WithDefault("worker")
    Role role();

    /** Directory for the MapDB files, the write-ahead log and the lock (workers). */
    @WithName("data-dir")
    @WithDefault("./data")
    String dataDir();

    /** Replicas per key; capped at the number of workers (1 while a worker runs alone). */
    @WithName("replication-factor")
    @WithDefault("3")
    int replicationFactor();

    /** Consistency level of requests that do not say {@code ?consistency=}. */
    @WithDefault("QUORUM")
    ConsistencyLevel consistency();

    Limits limits();

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

    enum Role {
        WORKER, PROXY
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

        /** How long a request waits for its write to be durable before answering 504 (outcome unknown). */
        @WithName("write-timeout-ms")
        @WithDefault("5000")
        long writeTimeoutMs();
    }
}
