package io.nimbus.api;

import io.nimbus.core.kv.ConsistencyLevel;

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
}
