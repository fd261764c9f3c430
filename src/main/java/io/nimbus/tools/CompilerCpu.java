package io.nimbus.tools;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time of HotSpot's JIT compiler threads ({@code C1 CompilerThreadN}, {@code C2 CompilerThreadN}) in other
 * processes, from {@code /proc/<pid>/task/<tid>/stat}: how the benchmark tells that a JVM it started has finished
 * compiling its hot code. On two cores, three worker JVMs' compiler threads took about a core for the first
 * 100 s of load (docs/PERFORMANCE.md), which a measured cell would otherwise share.
 */
final class CompilerCpu {
    /** Clock ticks per second of /proc's utime and stime: USER_HZ, 100 in Linux's ABI. */
    static final int USER_HZ = 100;

    private CompilerCpu() {
    }

    /** Per compiler thread (by thread id) of the given processes: CPU ticks (user + system) used so far. */
    static Map<Long, Long> ticks(List<Long> pids) {
        Map<Long, Long> ticks = new HashMap<>();
        for (long pid : pids) {
            Path tasks = Path.of("/proc", Long.toString(pid), "task");
            try (DirectoryStream<Path> dir = Files.newDirectoryStream(tasks)) {
                for (Path task : dir) {
                    String stat;
                    try {
                        stat = Files.readString(task.resolve("stat"));
                    } catch (IOException e) {
                        if (e instanceof NoSuchFileException || !Files.exists(task)) {
                            continue; // the thread ended between the listing and the read (ENOENT or ESRCH): it
                                      // compiles nothing now, and HotSpot does stop idle compiler threads
                        }
                        throw e;
                    }
                    long t = compilerTicks(stat);
                    if (t >= 0) {
                        ticks.put(Long.parseLong(task.getFileName().toString()), t);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + tasks, e);
            }
        }
        return ticks;
    }

    /**
     * From one line of {@code /proc/<pid>/task/<tid>/stat}: the thread's utime + stime in ticks if it is a JIT
     * compiler thread, else -1. The name (field 2) is in parentheses and may hold spaces and parentheses itself,
     * so the fields after it are counted from the last ')'.
     */
    static long compilerTicks(String stat) {
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open) {
            throw new IllegalArgumentException("not a /proc stat line: " + stat);
        }
        String name = stat.substring(open + 1, close);
        if (!name.startsWith("C1 CompilerThre") && !name.startsWith("C2 CompilerThre")) {
            return -1;
        }
        String[] f = stat.substring(close + 2).trim().split(" ");
        // f[0] is field 3 (state); utime and stime are fields 14 and 15
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /**
     * Cores the compiler threads used between two readings over {@code seconds}: each thread's growth, a thread
     * started in between counted from zero. A thread that ended in between (HotSpot stops idle ones) is not
     * counted, which can only understate a compiler that was idle enough to stop one.
     */
    static double cores(Map<Long, Long> before, Map<Long, Long> after, double seconds) {
        long used = 0;
        for (Map.Entry<Long, Long> e : after.entrySet()) {
            used += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
        }
        return used / (double) USER_HZ / seconds;
    }
}
