package io.nimbus.it;

import com.fasterxml.jackson.databind.JsonNode;

/** Reading one worker out of a {@code GET /v1/cluster/topology} answer. */
final class TopologyJson {
    private TopologyJson() {
    }

    /** The worker named {@code name}, or null. */
    static JsonNode worker(JsonNode topology, String name) {
        for (JsonNode w : topology.path("workers")) {
            if (w.path("name").asText().equals(name)) {
                return w;
            }
        }
        return null;
    }

    /** Its status (NORMAL, JOINING, LEAVING, REMOVING), or "absent". */
    static String status(JsonNode topology, String name) {
        JsonNode w = worker(topology, name);
        return w == null ? "absent" : w.path("status").asText();
    }

    /** Its host id, or null. */
    static String hostOf(JsonNode topology, String name) {
        JsonNode w = worker(topology, name);
        return w == null ? null : w.path("hostId").asText();
    }
}
