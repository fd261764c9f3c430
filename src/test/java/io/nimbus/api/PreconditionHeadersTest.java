package io.nimbus.api;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.Precondition;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How If-Match / If-None-Match, as sent, become the precondition of a write or delete. */
class PreconditionHeadersTest {
    private static final Ballot V1 = new Ballot(0x18c1f0a2b3c40L, "node1");

    @Test
    void anAbsentHeaderIsNullAndAnEmptyOneStaysEmpty() {
        assertNull(Requests.listHeader(List.of()));
        assertNull(Requests.listHeader(null));
        assertEquals("", Requests.listHeader(List.of("")));
    }

    @Test
    void severalFieldLinesAreOneList() {
        assertEquals("\"a\", \"b\"", Requests.listHeader(List.of("\"a\"", "\"b\"")));
        // a star next to anything else is malformed, wherever it came from
        assertThrows(ProblemException.BadRequest.class,
                () -> KvResource.writePrecondition(Requests.listHeader(List.of("*", "\"a\"")), null));
    }

    @Test
    void anEmptyIfMatchIsRefusedNotUnconditional() {
        ProblemException.BadRequest e = assertThrows(ProblemException.BadRequest.class,
                () -> KvResource.writePrecondition("", null));
        assertTrue(e.getMessage().startsWith("If-Match is empty"), e.getMessage());
        assertThrows(ProblemException.BadRequest.class, () -> KvResource.writePrecondition("  ", null));
        assertThrows(ProblemException.BadRequest.class, () -> KvResource.writePrecondition(null, ""));
    }

    @Test
    void noHeadersIsUnconditional() {
        assertEquals(Precondition.NONE, KvResource.writePrecondition(null, null));
    }

    @Test
    void ifNoneMatchStarIsAbsentForWritesAndDeletesAlike() {
        assertEquals(new Precondition.Absent(), KvResource.writePrecondition(null, "*"));
        assertEquals(new Precondition.Absent(), KvResource.writePrecondition(null, " * "));
    }

    @Test
    void ifNoneMatchWithEtagsIsRefused() {
        ProblemException.BadRequest e = assertThrows(ProblemException.BadRequest.class,
                () -> KvResource.writePrecondition(null, EntityTags.format(V1)));
        assertTrue(e.getMessage().contains("must be *"), e.getMessage());
        // a malformed one is named as malformed
        ProblemException.BadRequest bad = assertThrows(ProblemException.BadRequest.class,
                () -> KvResource.writePrecondition(null, "nope"));
        assertTrue(bad.getMessage().contains("quoted ETags"), bad.getMessage());
    }

    @Test
    void ifMatchStarAndEtags() {
        assertEquals(new Precondition.Present(), KvResource.writePrecondition("*", null));
        assertEquals(new Precondition.VersionIn(List.of(V1)), KvResource.writePrecondition(EntityTags.format(V1), null));
    }

    @Test
    void bothHeadersAreRefused() {
        assertThrows(ProblemException.BadRequest.class, () -> KvResource.writePrecondition("*", "*"));
    }
}
