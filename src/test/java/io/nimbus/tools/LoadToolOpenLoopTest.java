package io.nimbus.tools;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coordinated omission, with a fake store whose one request stalls: closed loop, the stall is one slow sample
 * (the requests it held back were never sent); open loop, every request due during the stall is charged its wait
 * from its intended send time. Sends still owed past the end's grace are counted as lower bounds, never dropped;
 * a send due just before the end goes out and is measured.
 */
class LoadToolOpenLoopTest {
    private static final long STALL_MS = 300;

    /** Answers in ~1 ms; the request sent first after {@code stallAfterMs} takes {@code stallMs}. */
    private static final class StallingClient implements LoadClient {
        private final long stallAt;
        private final long stallMs;
        private boolean stalled;

        StallingClient(long stallAfterMs, long stallMs) {
            this.stallAt = System.nanoTime() + stallAfterMs * 1_000_000;
            this.stallMs = stallMs;
        }

        @Override
        public Reply put(int key) {
            try {
                if (!stalled && System.nanoTime() >= stallAt) {
                    stalled = true;
                    Thread.sleep(stallMs);
                } else {
                    Thread.sleep(1);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            return Reply.ok("204", "v");
        }

        @Override
        public Reply get(int key) {
            throw new UnsupportedOperationException("PUT only");
        }

        @Override
        public Reply casPut(int key, String version) {
            throw new UnsupportedOperationException("PUT only");
        }

        @Override
        public void close() {
        }
    }

    private static LoadTool.Result run(long rate, int durationS, long stallAfterMs, long stallMs) throws InterruptedException {
        Map<LoadTool.Op, Integer> mix = new EnumMap<>(LoadTool.Op.class);
        mix.put(LoadTool.Op.PUT, 1);
        LoadTool.Options o = new LoadTool.Options(List.of(URI.create("http://fake")), 1, durationS, 0, 1_000_000, 10,
                10, mix, null, "t-", 1, null, LoadTool.Target.NIMBUS, rate, false, false);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        LoadTool.Runner runner = new LoadTool.Runner(o, new PrintStream(sink, true, StandardCharsets.UTF_8),
                i -> new StallingClient(stallAfterMs, stallMs));
        LoadTool.Result r = runner.measure();
        runner.report(r);
        return r;
    }

    @Test
    void closedLoopHidesTheRequestsAStallHeldBackOpenLoopChargesThem() throws InterruptedException {
        Histogram closed = run(0, 2, 500, STALL_MS).total();
        Histogram open = run(200, 2, 500, STALL_MS).total();
        assertTrue(closed.getMaxValue() >= STALL_MS * 1000, "the stall itself is measured: " + closed.getMaxValue());
        assertTrue(closed.getValueAtPercentile(99) < 50_000,
                "closed loop: one slow sample among ~1,500, p99 stays low: " + closed.getValueAtPercentile(99) + " us");
        // 200/s: ~60 of ~400 intended sends fall due during the 300 ms stall, waiting 300 ms down to ~0
        assertTrue(open.getValueAtPercentile(99) >= 200_000,
                "open loop: p99 shows the stall: " + open.getValueAtPercentile(99) + " us");
        assertTrue(open.getValueAtPercentile(90) >= 10_000,
                "open loop: ~15% of requests waited behind the stall: p90 " + open.getValueAtPercentile(90) + " us");
    }

    @Test
    void aStoreOnScheduleLosesNoSendAtTheEnd() throws InterruptedException {
        LoadTool.Result r = run(500, 1, 10_000, 1);
        assertEquals(0, r.cutOff().getTotalCount(), "every send due before the end went out");
        long sent = r.histograms().get(LoadTool.Op.PUT).getTotalCount();
        assertTrue(sent >= 490 && sent <= 500, "500/s for 1 s: " + sent);
    }

    @Test
    void sendsTheEndCutOffAreCountedAsLowerBoundsNotDropped() throws InterruptedException {
        // 100/s for 1 s; the request due at ~100 ms takes 2.5 s, past the end's 1 s grace: the ~89 sends due
        // after it never go out
        LoadTool.Result r = run(100, 1, 100, 2_500);
        long cut = r.cutOff().getTotalCount();
        assertTrue(cut >= 80 && cut <= 95, "intended sends cut off: " + cut);
        assertEquals(cut + r.histograms().get(LoadTool.Op.PUT).getTotalCount(), r.total().getTotalCount());
        assertTrue(r.cutOff().getMinValue() >= 1_400_000,
                "each cut-off send waited at least from its due time to the end: " + r.cutOff().getMinValue() + " us");
    }
}
