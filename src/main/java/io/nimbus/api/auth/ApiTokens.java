package io.nimbus.api.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The client tokens a node accepts, as SHA-256 hashes so that the file is not a password list.
 * One line per token: {@code <64 hex digits: SHA-256 of the token's UTF-8>  <role>[,<role>]  [name]};
 * blank lines and {@code #} comments are ignored. Make one with
 * {@code printf '%s' "$TOKEN" | sha256sum}.
 */
public final class ApiTokens {
    /** One accepted token: its hash, the roles it holds (closed under implication) and a name for logs. */
    public record Entry(byte[] sha256, Set<ApiRole> roles, String name) {
        public Entry {
            sha256 = sha256.clone();
            roles = Collections.unmodifiableSet(EnumSet.copyOf(roles));
        }

        @Override
        public byte[] sha256() {
            return sha256.clone();
        }
    }

    private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
    private static final int LINES_MAX = 100_000;

    private final List<Entry> entries;

    private ApiTokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static ApiTokens none() {
        return new ApiTokens(List.of());
    }

    public int size() {
        return entries.size();
    }

    /**
     * Parses a token file's lines. {@code source} names the file in error messages, which give the line
     * number and never echo a line (it might hold a token pasted by mistake).
     */
    public static ApiTokens parse(List<String> lines, String source) {
        if (lines.size() > LINES_MAX) {
            throw new IllegalArgumentException(source + " has " + lines.size() + " lines; at most " + LINES_MAX);
        }
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String content = (hash >= 0 ? line.substring(0, hash) : line).trim();
            if (content.isEmpty()) {
                continue;
            }
            String where = source + " line " + (i + 1);
            String[] fields = content.split("\\s+");
            if (fields.length < 2 || fields.length > 3) {
                throw new IllegalArgumentException(where + ": expected '<sha-256 hex> <role>[,<role>] [name]'");
            }
            if (!HEX64.matcher(fields[0]).matches()) {
                throw new IllegalArgumentException(where + ": the first field must be the token's SHA-256 as 64 hex "
                        + "digits (printf '%s' \"$TOKEN\" | sha256sum), not the token itself");
            }
            Set<ApiRole> roles = EnumSet.noneOf(ApiRole.class);
            for (String r : fields[1].split(",")) {
                try {
                    roles.addAll(ApiRole.parse(r).implied());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
                }
            }
            byte[] digest = HexFormat.of().parseHex(fields[0].toLowerCase(java.util.Locale.ROOT));
            for (Entry e : entries) {
                if (MessageDigest.isEqual(e.sha256, digest)) {
                    throw new IllegalArgumentException(where + ": the same token hash is listed twice");
                }
            }
            String name = fields.length == 3 ? fields[2] : "token-" + (i + 1);
            entries.add(new Entry(digest, roles, name));
        }
        return new ApiTokens(entries);
    }

    /**
     * The entry of this presented token, if any. Hashes it, then compares with every entry in
     * constant time and without stopping at a match, so timing tells nothing about which entry (or
     * how much of a hash) matched.
     */
    public Optional<Entry> lookup(String presented) {
        byte[] digest = sha256(presented);
        Entry found = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.sha256, digest)) { // at most one: parse refuses duplicates
                found = e;
            }
        }
        return Optional.ofNullable(found);
    }

    /** SHA-256 of the token's UTF-8 bytes. */
    public static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
