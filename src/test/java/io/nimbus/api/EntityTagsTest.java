package io.nimbus.api;

import io.nimbus.api.EntityTags.Condition;
import io.nimbus.api.EntityTags.Tag;
import io.nimbus.core.kv.Ballot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EntityTagsTest {

    private static final Ballot V1 = new Ballot(0x18c1f0a2b3c40L, "node1");
    private static final Ballot V2 = new Ballot(0x18c1f0a2b3c41L, "node1");

    private static Condition parse(String header) {
        return EntityTags.parse(header, "If-Match");
    }

    // ---- format ----

    @Test
    void formatQuotesTheToken() {
        assertEquals("\"18c1f0a2b3c40-node1\"", EntityTags.format(V1));
    }

    @Test
    void formattedTagParsesBackToTheSameVersion() {
        Condition c = parse(EntityTags.format(V1));
        assertEquals(List.of(V1), EntityTags.strongVersions(c));
    }

    // ---- parse: good headers ----

    @Test
    void star() {
        Condition c = parse("*");
        assertTrue(c.any());
        assertEquals(List.of(), c.tags());
    }

    @Test
    void starWithSurroundingWhitespace() {
        assertTrue(parse("  *\t").any());
    }

    @Test
    void singleTag() {
        Condition c = parse("\"abc\"");
        assertFalse(c.any());
        assertEquals(List.of(new Tag(false, "abc")), c.tags());
    }

    @Test
    void emptyOpaqueTagIsAllowed() {
        assertEquals(List.of(new Tag(false, "")), parse("\"\"").tags());
    }

    @Test
    void listWithVariousWhitespaceKeepsOrder() {
        Condition c = parse(" \"a\" ,\"b\",  \"c\"\t,\t\"d\" ");
        assertEquals(List.of(new Tag(false, "a"), new Tag(false, "b"), new Tag(false, "c"), new Tag(false, "d")), c.tags());
    }

    @Test
    void listWithoutWhitespace() {
        assertEquals(List.of(new Tag(false, "a"), new Tag(false, "b")), parse("\"a\",\"b\"").tags());
    }

    @Test
    void weakTags() {
        Condition c = parse("W/\"a\", \"b\", W/\"c\"");
        assertEquals(List.of(new Tag(true, "a"), new Tag(false, "b"), new Tag(true, "c")), c.tags());
    }

    @Test
    void opaqueMayContainCommasAndNonAscii() {
        assertEquals(List.of(new Tag(false, "a,b"), new Tag(false, "caf\u00e9")), parse("\"a,b\", \"caf\u00e9\"").tags());
    }

    // ---- parse: malformed headers ----

    @ParameterizedTest
    @ValueSource(strings = {
            "abc",                 // unquoted
            "abc-node1",
            "\"a\" \"b\"",         // missing comma
            "\"a\"\"b\"",
            "\"a\",",              // trailing comma
            "\"a\", ",
            ",\"a\"",              // leading comma
            "\"a\",,\"b\"",        // empty element
            "",                    // empty
            "   ",
            "\"abc",               // unterminated quote
            "\"a\", \"b",
            "W/",                  // weak marker without tag
            "W/abc",
            "w/\"a\"",             // weak marker is case-sensitive
            "W/ \"a\"",            // no space allowed inside W/"..."
            "*, \"a\"",            // * cannot be combined
            "**",
            "\"a\" x",
            "\"a b\"",             // space is not an etagc
            "\"a\tb\"",
            "\"a\u007fb\"",        // DEL
            "\"a\u0001b\"",
    })
    void malformedHeadersAreBadRequest(String header) {
        ProblemException.BadRequest e = assertThrows(ProblemException.BadRequest.class, () -> parse(header),
                () -> "'" + header + "' should be rejected");
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains("If-Match"), "message names the header: " + e.getMessage());
    }

    @Test
    void badRequestNamesTheHeaderItWasGiven() {
        ProblemException.BadRequest e = assertThrows(ProblemException.BadRequest.class,
                () -> EntityTags.parse("nope", "If-None-Match"));
        assertTrue(e.getMessage().startsWith("If-None-Match"), e.getMessage());
    }

    // ---- strongVersions ----

    @Test
    void strongVersionsParsesOurTokens() {
        Condition c = parse(EntityTags.format(V1) + ", " + EntityTags.format(V2));
        assertEquals(List.of(V1, V2), EntityTags.strongVersions(c));
    }

    @Test
    void strongVersionsDropsWeakTags() {
        Condition c = parse("W/" + EntityTags.format(V1) + ", " + EntityTags.format(V2));
        assertEquals(List.of(V2), EntityTags.strongVersions(c));
    }

    @Test
    void strongVersionsDropsForeignTags() {
        Condition c = parse("\"xyzzy\", \"\", \"123-\", " + EntityTags.format(V1) + ", \"33a9f-\u00e9\"");
        assertEquals(List.of(V1), EntityTags.strongVersions(c));
    }

    @Test
    void strongVersionsOfOnlyWeakOrForeignTagsIsEmpty() {
        assertEquals(List.of(), EntityTags.strongVersions(parse("W/" + EntityTags.format(V1) + ", \"etag-from-a-proxy!\"")));
    }

    @Test
    void strongVersionsOfStarIsEmpty() {
        assertEquals(List.of(), EntityTags.strongVersions(parse("*")));
    }

    // ---- weakMatches ----

    @Test
    void weakMatchesStrongAndWeakTagsOfTheCurrentVersion() {
        assertTrue(EntityTags.weakMatches(parse(EntityTags.format(V1)), V1));
        assertTrue(EntityTags.weakMatches(parse("W/" + EntityTags.format(V1)), V1));
        assertTrue(EntityTags.weakMatches(parse("\"other\", W/" + EntityTags.format(V1)), V1));
    }

    @Test
    void weakMatchesFailsForOtherVersions() {
        assertFalse(EntityTags.weakMatches(parse(EntityTags.format(V1)), V2));
        assertFalse(EntityTags.weakMatches(parse("\"other\", W/\"x\""), V1));
        // same counter, different node
        assertFalse(EntityTags.weakMatches(parse(EntityTags.format(V1)), new Ballot(V1.counter(), "node2")));
    }

    @Test
    void starMatchesAnyCurrentVersion() {
        assertTrue(EntityTags.weakMatches(parse("*"), V1));
    }

    @Test
    void nothingMatchesWhenThereIsNoCurrentVersion() {
        assertFalse(EntityTags.weakMatches(parse("*"), null));
        assertFalse(EntityTags.weakMatches(parse(EntityTags.format(V1)), null));
    }
}
