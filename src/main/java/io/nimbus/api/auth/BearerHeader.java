package io.nimbus.api.auth;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The token of an {@code Authorization: Bearer <token>} header (RFC 6750 §2.1: token68 syntax). */
final class BearerHeader {
    private static final Pattern BEARER = Pattern.compile("(?i)bearer +([A-Za-z0-9\\-._~+/]+=*) *");

    private BearerHeader() {
    }

    /** The token, or null when the header is not a well-formed bearer credential. */
    static String token(String header) {
        Matcher m = BEARER.matcher(header);
        return m.matches() ? m.group(1) : null;
    }
}
