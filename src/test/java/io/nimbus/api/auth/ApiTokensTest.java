package io.nimbus.api.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ApiTokensTest {
    private static String hash(String token) {
        return HexFormat.of().formatHex(ApiTokens.sha256(token));
    }

    @Test
    void theHashIsTheSha256OfTheTokensUtf8AsSha256sumPrintsIt() {
        // printf '%s' read-token-for-tests | sha256sum
        assertEquals("034a18b02f9980ffc4c7b91fe20d9958638c3f488e9413f54510f19374b0784f", hash("read-token-for-tests"));
    }

    @Test
    void aTokenIsFoundByItsHashWithTheRolesItsLineGrantsAndImplies() {
        ApiTokens t = ApiTokens.parse(List.of(
                "# comment line",
                "",
                hash("r") + "  read   reader   # trailing comment",
                hash("w") + "\twrite",
                hash("a").toUpperCase() + " admin ops",
                hash("ra") + " read,admin"), "tokens");
        assertEquals(4, t.size());
        assertEquals(EnumSet.of(ApiRole.READ), t.lookup("r").orElseThrow().roles());
        assertEquals("reader", t.lookup("r").orElseThrow().name());
        assertEquals(EnumSet.of(ApiRole.READ, ApiRole.WRITE), t.lookup("w").orElseThrow().roles());
        assertEquals("token-4", t.lookup("w").orElseThrow().name());
        assertEquals(EnumSet.allOf(ApiRole.class), t.lookup("a").orElseThrow().roles());
        assertEquals(EnumSet.allOf(ApiRole.class), t.lookup("ra").orElseThrow().roles());
        assertFalse(t.lookup("x").isPresent());
        assertFalse(t.lookup("").isPresent());
        // the hash itself is not a token
        assertFalse(t.lookup(hash("r")).isPresent());
    }

    @Test
    void aLineHoldingATokenInsteadOfItsHashIsRefusedWithoutEchoingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ApiTokens.parse(List.of("s3cr3t-token read"), "tokens"));
        assertTrue(e.getMessage().contains("tokens line 1"), e.getMessage());
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cr3t"), e.getMessage());
    }

    @Test
    void badLinesAreRefusedWithTheirLineNumber() {
        String h = hash("t");
        assertThrows(IllegalArgumentException.class, () -> ApiTokens.parse(List.of(h), "f"));
        IllegalArgumentException role = assertThrows(IllegalArgumentException.class,
                () -> ApiTokens.parse(List.of("", h + " superuser"), "f"));
        assertTrue(role.getMessage().contains("f line 2") && role.getMessage().contains("superuser"), role.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ApiTokens.parse(List.of(h + " read name extra"), "f"));
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> ApiTokens.parse(List.of(h + " read", h + " admin"), "f"));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
    }

    @Test
    void authenticationOnWithoutAUsableTokensFileStopsStartUp(@TempDir Path dir) throws Exception {
        IllegalStateException unset = assertThrows(IllegalStateException.class, () -> ClientAuth.load(Optional.empty()));
        assertTrue(unset.getMessage().contains("nimbus.api.auth.tokens-file"), unset.getMessage());
        assertThrows(java.io.UncheckedIOException.class,
                () -> ClientAuth.load(Optional.of(dir.resolve("missing").toString())));
        Path empty = Files.writeString(dir.resolve("empty"), "# nobody yet\n");
        IllegalStateException none = assertThrows(IllegalStateException.class,
                () -> ClientAuth.load(Optional.of(empty.toString())));
        assertTrue(none.getMessage().contains("no token"), none.getMessage());
        Path good = Files.writeString(dir.resolve("good"), hash("t") + " read\n");
        assertEquals(1, ClientAuth.load(Optional.of(good.toString())).size());
    }

    @Test
    void bearerHeadersAreParsedStrictly() {
        assertEquals("abc", BearerHeader.token("Bearer abc"));
        assertEquals("abc", BearerHeader.token("bearer abc"));
        assertEquals("a-b_c.d~e+f/g==", BearerHeader.token("Bearer a-b_c.d~e+f/g=="));
        assertEquals(null, BearerHeader.token("Bearer"));
        assertEquals(null, BearerHeader.token("Bearer "));
        assertEquals(null, BearerHeader.token("Bearer a b"));
        assertEquals(null, BearerHeader.token("Basic abc"));
        assertEquals(null, BearerHeader.token("abc"));
    }
}
