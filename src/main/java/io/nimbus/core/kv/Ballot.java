package io.nimbus.core.kv;

import java.util.Objects;

/**
 * A ballot: a time-based counter and the id of the node that issued it. Ballots are unique
 * (a node never issues the same counter twice) and totally ordered (counter first, then node id).
 * A committed value's ballot is its version, and its ETag.
 */
public record Ballot(long counter, String nodeId) implements Comparable<Ballot> {

    /** Longest node id a ballot may carry (it travels in every ETag and, later, every Paxos message). */
    public static final int NODE_ID_CHARS_MAX = 128;

    public Ballot {
        Objects.requireNonNull(nodeId, "nodeId");
        if (counter < 0) {
            throw new IllegalArgumentException("ballot counter must be >= 0, got " + counter);
        }
        if (nodeId.isEmpty() || nodeId.length() > NODE_ID_CHARS_MAX) {
            throw new IllegalArgumentException("node id must be 1.." + NODE_ID_CHARS_MAX + " chars");
        }
        for (int i = 0; i < nodeId.length(); i++) {
            char c = nodeId.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '"') {
                throw new IllegalArgumentException("node id must be printable ASCII without spaces or quotes: " + nodeId);
            }
        }
    }

    @Override
    public int compareTo(Ballot other) {
        int byCounter = Long.compare(counter, other.counter);
        return byCounter != 0 ? byCounter : nodeId.compareTo(other.nodeId);
    }

    public boolean isNewerThan(Ballot other) {
        return other == null || compareTo(other) > 0;
    }

    /** The opaque token used as an ETag (without the surrounding quotes): {@code <hex counter>-<node id>}. */
    public String token() {
        return Long.toHexString(counter) + "-" + nodeId;
    }

    /**
     * Parses {@link #token()}. Returns null when the text is not a ballot token: an ETag we did not
     * issue can never match any version, so callers treat null as "matches nothing".
     */
    public static Ballot parseToken(String token) {
        int dash = token.indexOf('-');
        if (dash <= 0 || dash > 16 || dash == token.length() - 1) {
            return null;
        }
        long counter;
        try {
            counter = Long.parseUnsignedLong(token.substring(0, dash), 16);
        } catch (NumberFormatException e) {
            return null;
        }
        if (counter < 0) {
            return null;
        }
        Ballot parsed;
        try {
            parsed = new Ballot(counter, token.substring(dash + 1));
        } catch (IllegalArgumentException e) {
            return null;
        }
        // only the canonical spelling we issue ("a-n", never "0A-n" or "+a-n") names a ballot
        return parsed.token().equals(token) ? parsed : null;
    }
}
