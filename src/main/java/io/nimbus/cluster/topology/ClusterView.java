package io.nimbus.cluster.topology;

import io.nimbus.core.gossip.Endpoint;
import io.nimbus.core.gossip.Member;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Replica;
import io.nimbus.core.topology.Topology;
import io.nimbus.core.topology.Worker;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the request path reads, without a lock: the topology this node holds (null before it holds
 * one) and, from gossip, which workers are down and their newest addresses. Published as a whole,
 * immutable, whenever either changes.
 *
 * @param down      workers gossip currently considers unreachable, or whose gossiped host id is not
 *                  the topology's (another store now runs under that name)
 * @param addresses the newest cluster address gossip knows per worker (the topology's registered one otherwise)
 * @param members   gossip's members as of the same round (what {@code GET /v1/cluster} shows, so the API and the
 *                  request path never disagree about who is reachable)
 */
public record ClusterView(Topology topology, String self, HostId selfHost, Set<String> down,
                          Map<String, Endpoint> addresses, List<Member> members, String notReadyWhy) {

    public ClusterView {
        down = Set.copyOf(down);
        addresses = Map.copyOf(addresses);
        members = List.copyOf(members);
    }

    public boolean ready() {
        return topology != null;
    }

    public long epoch() {
        return topology == null ? 0 : topology.epoch();
    }

    /** One replica as a request addresses it. */
    public record Target(String name, HostId host, Endpoint endpoint, boolean self) {
    }

    public Target target(Replica r) {
        Worker w = topology.worker(r.name()).orElseThrow(() -> new IllegalStateException(r + " is not in " + topology));
        boolean mine = r.name().equals(self) && r.host().equals(selfHost);
        return new Target(r.name(), r.host(), addresses.getOrDefault(r.name(), w.endpoint()), mine);
    }

    /** This node's own replica always counts as reachable; others unless gossip says they are down. */
    public boolean reachable(Replica r) {
        return (r.name().equals(self) && r.host().equals(selfHost)) || !down.contains(r.name());
    }
}
