package io.nimbus.api;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which request targets the HTTP edge lets through (RFC 9112 §3.2, RFC 3986). */
class RequestTargetTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "/", "/v1/kv/a", "/v1/kv/user%3A42", "/v1/kv/%C3%A9?consistency=ONE", "/set?key=a&value=b+c",
            "/v1/kv/a:b@c!$&'()*+,;=-._~", "/v1/kv/a..b", "/v1/kv/.x", "/v1/kv/a?x=..", "*", "http://host:8080/v1/kv/a", "HTTPS://host/v1/kv/a", "/q/health/live"})
    void goodTargets(String target) {
        assertNull(HttpEdge.targetProblem(target));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", "v1/kv/a", "ftp://host/a",
            "/v1/kv/\u00e9",            // a raw byte 0xE9 (Latin-1 é)
            "/v1/kv/\u00c3\u00a9",      // raw UTF-8 é
            "/v1/kv/a\u0001", "/v1/kv/a\u007f", "/v1/kv/a b", "/v1/kv/a\tb",
            "/v1/kv/%zz", "/v1/kv/%4", "/v1/kv/%", "/v1/kv/%%41", "/v1/kv/%G1",
            "/v1/kv/a{b", "/v1/kv/a}b", "/v1/kv/a|b", "/v1/kv/a\\b", "/v1/kv/a^b", "/v1/kv/a`b", "/v1/kv/a\"b",
            "/v1/kv/a<b", "/v1/kv/a>b", "/v1/kv/a#b", "/v1/kv/a[b]"})
    void badTargets(String target) {
        String why = HttpEdge.targetProblem(target);
        assertNotNull(why, target);
        assertTrue(why.contains("request target"), why);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/kv/..", "/v1/kv/.", "/v1/kv/a/../../v1/cluster", "/v1/kv/%2e%2E", "/v1/kv/%2E",
            "/v1/./kv/a", "/../v1/kv/a"})
    void dotSegmentsAreRefusedBecauseTheRouterAndTheAccessRulesWouldReadThemDifferently(String target) {
        String why = HttpEdge.targetProblem(target);
        assertNotNull(why, target);
        assertTrue(why.contains("dot segment"), why);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1/kv/\u00e9", "/v1/kv/a\u0001"})
    void rawBytesAreNamedInHex(String target) {
        String why = HttpEdge.targetProblem(target);
        assertTrue(why.contains(String.format("0x%02X", (int) target.charAt(target.length() - 1))), why);
    }
}
