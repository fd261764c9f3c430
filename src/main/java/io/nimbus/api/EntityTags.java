package io.nimbus.api;

import io.nimbus.core.kv.Ballot;

import java.util.ArrayList;
import java.util.List;

/** Parsing and formatting of ETags and of {@code If-Match} / {@code If-None-Match} (RFC 9110 §8.8.3, §13.1). */
public final class EntityTags {
    private EntityTags() {
    }

    /** A parsed condition header: {@code *}, or a list of entity tags. */
    public record Condition(boolean any, List<Tag> tags) {
    }

    public record Tag(boolean weak, String opaque) {
    }

    public static String format(Ballot version) {
        return "\"" + version.token() + "\"";
    }

    /** Parses a condition header, or throws 400 saying what a good one looks like. */
    public static Condition parse(String header, String name) {
        String h = header.trim();
        if (h.isEmpty()) {
            throw new ProblemException.BadRequest(name + " is empty: send * or the quoted ETag of a previous "
                    + "response (e.g. " + name + ": \"18c1f0a2b3c40-node1\"), or leave the header out");
        }
        if (h.equals("*")) {
            return new Condition(true, List.of());
        }
        List<Tag> tags = new ArrayList<>();
        int i = 0;
        while (i < h.length()) {
            boolean weak = false;
            if (h.startsWith("W/", i)) {
                weak = true;
                i += 2;
            }
            if (i >= h.length() || h.charAt(i) != '"') {
                throw bad(name);
            }
            int end = h.indexOf('"', i + 1);
            if (end < 0) {
                throw bad(name);
            }
            String opaque = h.substring(i + 1, end);
            for (int k = 0; k < opaque.length(); k++) {
                char c = opaque.charAt(k);
                if (c < 0x21 || c == 0x7f) {
                    throw bad(name);
                }
            }
            tags.add(new Tag(weak, opaque));
            i = end + 1;
            while (i < h.length() && (h.charAt(i) == ' ' || h.charAt(i) == '\t')) {
                i++;
            }
            if (i < h.length()) {
                if (h.charAt(i) != ',') {
                    throw bad(name);
                }
                i++;
                while (i < h.length() && (h.charAt(i) == ' ' || h.charAt(i) == '\t')) {
                    i++;
                }
                if (i >= h.length()) {
                    throw bad(name);
                }
            }
        }
        if (tags.isEmpty()) {
            throw bad(name);
        }
        return new Condition(false, tags);
    }

    /** The versions a strong comparison (If-Match) can match: weak tags and foreign tags match nothing. */
    public static List<Ballot> strongVersions(Condition condition) {
        List<Ballot> out = new ArrayList<>();
        for (Tag t : condition.tags()) {
            Ballot b = t.weak() ? null : Ballot.parseToken(t.opaque());
            if (b != null) {
                out.add(b);
            }
        }
        return out;
    }

    /** Weak comparison (If-None-Match on reads). */
    public static boolean weakMatches(Condition condition, Ballot current) {
        if (current == null) {
            return false;
        }
        if (condition.any()) {
            return true;
        }
        String token = current.token();
        return condition.tags().stream().anyMatch(t -> t.opaque().equals(token));
    }

    private static ProblemException.BadRequest bad(String name) {
        return new ProblemException.BadRequest(name + " must be * or a comma-separated list of quoted ETags, "
                + "e.g. " + name + ": \"18c1f0a2b3c40-node1\" (use the ETag header of a previous response)");
    }
}
