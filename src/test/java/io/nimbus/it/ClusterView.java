package io.nimbus.it;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** One node's {@code GET /v1/cluster}, parsed. */
record ClusterView(String self, boolean joined, int reachable, List<Member> members) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    record Member(String id, String address, int httpPort, String role, String status, boolean reachable,
                  long generation, long heartbeatVersion, int tokenCount, boolean self) {
    }

    /** Fetches and parses {@code node}'s view; throws if the node does not answer 200 within 2 s. */
    static ClusterView of(NodeProcess node) throws IOException, InterruptedException {
        HttpResponse<String> r = node.http().send(node.request(node.uri("/v1/cluster"))
                .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException(node + " GET /v1/cluster -> " + r.statusCode() + " " + r.body());
        }
        return JSON.readValue(r.body(), ClusterView.class);
    }

    /** Every node's current view, best effort, for failure messages (null entries are skipped). */
    static String views(Iterable<NodeProcess> nodes) {
        StringBuilder b = new StringBuilder("views:");
        for (NodeProcess n : nodes) {
            if (n == null) {
                continue;
            }
            b.append("\n  ").append(n).append(": ");
            try {
                b.append(n.isAlive() ? of(n).toString() : "(not running)");
            } catch (Exception e) {
                b.append("no view: ").append(e);
            }
        }
        return b.toString();
    }

    Set<String> ids() {
        TreeSet<String> ids = new TreeSet<>();
        members.forEach(m -> ids.add(m.id()));
        return ids;
    }

    Optional<Member> member(String id) {
        return members.stream().filter(m -> m.id().equals(id)).findFirst();
    }

    /** Exactly these members, every one of them reachable. */
    boolean isExactlyReachable(Set<String> expected) {
        return ids().equals(expected) && members.stream().allMatch(Member::reachable);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(self + (joined ? " joined" : " NOT joined") + ", " + reachable
                + " reachable:");
        for (Member m : members) {
            b.append(' ').append(m.id()).append(m.reachable() ? "(up" : "(DOWN").append(" gen ").append(m.generation())
                    .append(" hb ").append(m.heartbeatVersion()).append(' ').append(m.status()).append(')');
        }
        return b.toString();
    }
}
