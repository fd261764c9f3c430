package io.nimbus.it;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The {@code nimbus.cluster.*} / {@code nimbus.gossip.*} system properties of one node, for
 * {@link NodeProcess#start}. Everything is on 127.0.0.1 (or, with {@link #nodeAt}, on the node's own
 * loopback address); the cluster port is chosen by the test so that it stays the same across a restart.
 */
final class ClusterArgs {
    private final List<String> props = new ArrayList<>();

    private ClusterArgs(String id, int clusterPort) {
        props.add("nimbus.node.id=" + id);
        props.add("nimbus.cluster.host=127.0.0.1");
        props.add("nimbus.cluster.port=" + clusterPort);
    }

    static ClusterArgs node(String id, int clusterPort) {
        return new ClusterArgs(id, clusterPort);
    }

    /**
     * A node whose cluster port is on its own loopback address {@code host} (e.g. 127.77.5.2), which is
     * also the source address of its connections to peers, so that {@link LoopbackPartitions} can cut
     * traffic between two nodes by address.
     */
    static ClusterArgs nodeAt(String id, String host, int clusterPort) {
        ClusterArgs a = new ClusterArgs(id, clusterPort);
        a.props.set(1, "nimbus.cluster.host=" + host);
        a.props.add("nimbus.cluster.bind-host=" + host);
        return a;
    }

    /** Seeds at {@code host:port}, e.g. {@code 127.77.5.1:9081}. */
    ClusterArgs seedsAt(String... hostPorts) {
        props.add("nimbus.cluster.seeds=" + String.join(",", hostPorts));
        return this;
    }

    /** Any other system property, {@code name=value}. */
    ClusterArgs with(String property) {
        props.add(property);
        return this;
    }

    /** Seeds at {@code 127.0.0.1:<port>} for each port. */
    ClusterArgs seeds(int... clusterPorts) {
        props.add("nimbus.cluster.seeds=" + Arrays.stream(clusterPorts).mapToObj(p -> "127.0.0.1:" + p)
                .collect(Collectors.joining(",")));
        return this;
    }

    /** May this node found a new cluster (default: only when it has no seeds)? */
    ClusterArgs bootstrap(boolean allowed) {
        props.add("nimbus.cluster.bootstrap=" + allowed);
        return this;
    }

    /** Only the node named {@code id} may found the cluster (the same setting on every node). */
    ClusterArgs bootstrapNode(String id) {
        props.add("nimbus.cluster.bootstrap=" + id);
        return this;
    }

    ClusterArgs secret(String secret) {
        props.add("nimbus.cluster.secret=" + secret);
        return this;
    }

    /** Multicast discovery on the loopback interface, group 239.192.77.77:{@code groupPort}. */
    ClusterArgs multicastOnLoopback(int groupPort) {
        props.add("nimbus.cluster.discovery=multicast");
        props.add("nimbus.cluster.multicast-group=239.192.77.77:" + groupPort);
        props.add("nimbus.cluster.multicast-interface=lo");
        return this;
    }

    /** Gossip round and failure time-out, in Quarkus duration syntax ({@code 200ms}, {@code 2s}). */
    ClusterArgs gossip(String interval, String failureTimeout) {
        props.add("nimbus.gossip.interval=" + interval);
        props.add("nimbus.gossip.failure-timeout=" + failureTimeout);
        return this;
    }

    /** Caps the back-off between seed attempts, for nodes started before their seed answers. */
    ClusterArgs seedBackoffMax(String max) {
        props.add("nimbus.gossip.seed-backoff-max=" + max);
        return this;
    }

    String[] toArray() {
        return props.toArray(String[]::new);
    }
}
