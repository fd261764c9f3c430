package io.nimbus.cluster.coordinator;

import io.nimbus.cluster.transport.MalformedMessageException;
import io.nimbus.core.coordinator.Result;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ForwardCodecTest {
    private static final Ballot V1 = new Ballot(17, "n1"), V2 = new Ballot(1L << 40, "n2");

    private static ForwardCodec.Forward roundTrip(Mutation m, ConsistencyLevel level) {
        return ForwardCodec.decodeForward(ForwardCodec.encode(new ForwardCodec.Forward(m, level)));
    }

    @Test
    void aForwardedWriteArrivesAsItWasSent() {
        byte[] value = "v".repeat(1000).getBytes(StandardCharsets.UTF_8);
        for (Precondition pre : List.of(Precondition.NONE, new Precondition.Absent(), new Precondition.Present(),
                new Precondition.VersionIn(List.of(V1, V2)))) {
            ForwardCodec.Forward f = roundTrip(new Mutation("k/é", value, pre), ConsistencyLevel.ALL);
            assertEquals("k/é", f.mutation().key());
            assertArrayEquals(value, f.mutation().value());
            assertEquals(pre, f.mutation().precondition());
            assertEquals(ConsistencyLevel.ALL, f.level());
        }
        ForwardCodec.Forward delete = roundTrip(new Mutation("k", null, new Precondition.VersionIn(List.of(V1))),
                ConsistencyLevel.QUORUM);
        assertTrue(delete.mutation().isDelete());
        assertEquals(new Precondition.VersionIn(List.of(V1)), delete.mutation().precondition());
        ForwardCodec.Forward empty = roundTrip(new Mutation("k", new byte[0], Precondition.NONE), ConsistencyLevel.QUORUM);
        assertEquals(0, empty.mutation().value().length, "an empty value is not a delete");
    }

    @Test
    void everyAnswerArrivesAsItWasReached() {
        List<Result> all = List.of(new Result.Written(V2), new Result.PreconditionFailed(V1),
                new Result.PreconditionFailed(null), new Result.NotFound(), new Result.NotReady("no topology"),
                new Result.NotEnoughReplicas(ConsistencyLevel.ALL, 3, 2, "c is down"), new Result.Unavailable("u"),
                new Result.Overloaded(List.of("b", "c"), "full"), new Result.TimedOut("t"),
                new Result.OutcomeUnknown("may have been applied"));
        for (Result r : all) {
            assertEquals(r, ForwardCodec.decodeResult(ForwardCodec.encode(r)));
        }
        assertTrue(ForwardCodec.decodeResult(ForwardCodec.encode(new Result.OutcomeUnknown("x"))).outcomeUnknown(),
                "an unknown outcome stays unknown across the forward");
        assertNull(((Result.PreconditionFailed) ForwardCodec.decodeResult(
                ForwardCodec.encode(new Result.PreconditionFailed(null)))).current());
    }

    @Test
    void anIfMatchListLongerThanAFrameOfVersionsIsNotForwarded() {
        List<Ballot> many = new java.util.ArrayList<>();
        for (int i = 0; i <= ForwardCodec.VERSIONS_MAX; i++) {
            many.add(new Ballot(i, "n1"));
        }
        Mutation tooMany = new Mutation("k", new byte[]{1}, new Precondition.VersionIn(many));
        assertTrue(!ForwardCodec.forwardable(tooMany), "coordinated where it arrived instead");
        assertThrows(IllegalArgumentException.class, () -> ForwardCodec.encode(new ForwardCodec.Forward(tooMany,
                ConsistencyLevel.QUORUM)));
        assertTrue(ForwardCodec.forwardable(new Mutation("k", null, new Precondition.VersionIn(many.subList(0,
                ForwardCodec.VERSIONS_MAX)))));
        assertTrue(ForwardCodec.forwardable(new Mutation("k", null, Precondition.NONE)));
    }

    @Test
    void aLongExplanationIsCutNotRefused() {
        Result r = ForwardCodec.decodeResult(ForwardCodec.encode(new Result.Unavailable("x".repeat(100_000))));
        assertTrue(((Result.Unavailable) r).why().length() <= ForwardCodec.WHY_CHARS_MAX + 1);
    }

    @Test
    void truncatedTrailingOrForeignBytesAreRefusedAsMalformed() {
        byte[] ok = ForwardCodec.encode(new ForwardCodec.Forward(new Mutation("k", new byte[]{1, 2, 3},
                Precondition.NONE), ConsistencyLevel.QUORUM));
        for (int cut = 0; cut < ok.length; cut++) {
            byte[] shorter = Arrays.copyOf(ok, cut);
            assertThrows(MalformedMessageException.class, () -> ForwardCodec.decodeForward(shorter), "cut at " + cut);
        }
        byte[] longer = Arrays.copyOf(ok, ok.length + 1);
        assertThrows(MalformedMessageException.class, () -> ForwardCodec.decodeForward(longer));
        byte[] otherVersion = ok.clone();
        otherVersion[0] = 9;
        assertTrue(assertThrows(MalformedMessageException.class, () -> ForwardCodec.decodeForward(otherVersion))
                .getMessage().contains("same version"));
        byte[] badLevel = ok.clone();
        badLevel[1] = 7;
        assertThrows(MalformedMessageException.class, () -> ForwardCodec.decodeForward(badLevel));
        byte[] answer = ForwardCodec.encode(new Result.Written(V1));
        answer[1] = 42;
        assertThrows(MalformedMessageException.class, () -> ForwardCodec.decodeResult(answer));
    }
}
