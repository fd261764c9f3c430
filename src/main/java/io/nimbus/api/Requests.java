package io.nimbus.api;

import io.nimbus.core.kv.ConsistencyLevel;

import java.util.List;

/** Request parameters shared by the v1 and compatibility endpoints. */
final class Requests {
    private Requests() {
    }

    static ConsistencyLevel level(String text, ConsistencyLevel fallback) {
        if (text == null) {
            return fallback;
        }
        ConsistencyLevel level = ConsistencyLevel.parse(text);
        if (level == null) {
            throw new ProblemException.BadRequest("unknown consistency level '" + Keys.printable(text)
                    + "': use ONE, QUORUM or ALL");
        }
        return level;
    }

    /**
     * A list header (If-Match, If-None-Match) as sent: null when absent, else its field lines joined
     * with ", " (RFC 9110 §5.3). An empty line stays empty, so that the parser refuses it instead of the
     * request silently becoming unconditional.
     */
    static String listHeader(List<String> lines) {
        if (lines == null || lines.isEmpty()) {
            return null;
        }
        return String.join(", ", lines);
    }
}
