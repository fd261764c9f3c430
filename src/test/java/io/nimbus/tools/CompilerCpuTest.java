package io.nimbus.tools;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench's view of a JVM's JIT compiler threads, and when its warm-up stops. */
class CompilerCpuTest {

    @Test
    void aCompilerThreadsStatLineGivesItsUserPlusSystemTicks() {
        // fields 14 and 15 (utime, stime) are 1234 and 56; the name holds a space
        String c2 = "4242 (C2 CompilerThre) S 1 1 1 0 -1 1077936192 0 0 0 0 1234 56 0 0 20 0 30 0 100 0 0";
        assertEquals(1290, CompilerCpu.compilerTicks(c2));
        assertEquals(7, CompilerCpu.compilerTicks("7 (C1 CompilerThre) R 1 1 1 0 -1 0 0 0 0 0 5 2 0 0 20 0 30 0 100 0 0"));
        assertEquals(-1, CompilerCpu.compilerTicks("9 (vert.x-eventloo) S 1 1 1 0 -1 0 0 0 0 0 900 80 0 0 20 0 30 0 1 0 0"));
        // a thread may name itself ") 1 2 (": the fields are counted from the last ')'
        assertEquals(-1, CompilerCpu.compilerTicks("9 (a) 1 2 () S 1 1 1 0 -1 0 0 0 0 0 900 80 0 0 20 0 30 0 1 0 0"));
        assertThrows(IllegalArgumentException.class, () -> CompilerCpu.compilerTicks("no name here"));
    }

    @Test
    void coresAreEachThreadsGrowthOverTheInterval() {
        Map<Long, Long> before = Map.of(1L, 100L, 2L, 50L, 3L, 70L);
        Map<Long, Long> after = Map.of(1L, 300L, 2L, 50L, 4L, 100L); // 3 ended, 4 started
        assertEquals((200 + 0 + 100) / (double) CompilerCpu.USER_HZ / 10, CompilerCpu.cores(before, after, 10), 1e-9);
    }

    @Test
    void thisJvmHasCompilerThreadsThatHaveWorked() {
        Map<Long, Long> mine = CompilerCpu.ticks(List.of(ProcessHandle.current().pid()));
        assertFalse(mine.isEmpty(), "HotSpot runs at least one JIT compiler thread");
        assertTrue(mine.values().stream().mapToLong(Long::longValue).sum() > 0,
                "a test JVM that loaded JUnit and this class has compiled something: " + mine);
    }

    @Test
    void threadsEndingWhileTheyAreReadAreSkipped() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread churn = new Thread(() -> {
            while (!stop.get()) {
                Thread t = new Thread(() -> { });
                t.start();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }, "churn");
        churn.start();
        try {
            long pid = ProcessHandle.current().pid();
            for (int i = 0; i < 1000; i++) {
                assertFalse(CompilerCpu.ticks(List.of(pid)).isEmpty(), "the compiler threads are still read");
            }
        } finally {
            stop.set(true);
            churn.join();
        }
    }

    @Test
    void theWarmUpRunsItsMinimumThenWhileTheJitCompilesUpToItsMaximum() {
        assertTrue(BenchTool.warmUpMore(50, 0.0, 60, 300), "below the minimum, whatever the JIT does");
        assertFalse(BenchTool.warmUpMore(60, 0.15, 60, 300), "the JIT has settled at the minimum");
        assertTrue(BenchTool.warmUpMore(60, 0.5, 60, 300), "still compiling: on");
        assertTrue(BenchTool.warmUpMore(290, BenchTool.JIT_SETTLED_CORES, 60, 300));
        assertFalse(BenchTool.warmUpMore(300, 0.9, 60, 300), "never past the maximum");
        assertFalse(BenchTool.warmUpMore(0, 0.0, 0, 0), "0 and 0: no warm-up");
        assertTrue(BenchTool.warmUpMore(0, 0.0, 0, 300), "a minimum of 0 still takes one step to look at the JIT");
        assertThrows(IllegalArgumentException.class,
                () -> BenchTool.parse(new String[]{"--store-warmup-s", "60", "--store-warmup-max-s", "30"}));
        assertEquals(300, BenchTool.parse(new String[0]).storeWarmupMaxS());
    }
}
