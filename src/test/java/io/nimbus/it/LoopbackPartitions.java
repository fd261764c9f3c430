package io.nimbus.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real network partitions between processes on one machine, with nftables.
 *
 * <p>Each node has its own loopback address (127.x.y.z: all of 127/8 is routed to {@code lo}), binds its
 * cluster port to it and uses it as the source of its connections to peers ({@code nimbus.cluster.bind-host}).
 * {@link #cut} drops every IPv4 packet between two addresses of different groups, in both directions, in
 * the {@code output} hook: TCP between the two processes stops (new connections time out, established
 * ones stall) while both keep running; {@link #heal} lets it flow again. Clients talking HTTP to
 * 127.0.0.1 are not affected.
 *
 * <p>All rules live in one table of this instance's own, {@code ip nimbus_it_<jvm pid>_<n>}; nothing else
 * is touched (no flush of other tables). {@link #close()} deletes the table; a JVM shutdown hook deletes
 * any table an instance left behind, and a new instance deletes {@code nimbus_it_*} tables whose JVM is
 * gone (a test JVM killed with -9). Needs root and the {@code nft} tool ({@code .ci/run} installs it).
 */
final class LoopbackPartitions implements AutoCloseable {
    static final String PREFIX = "nimbus_it_";
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final Set<String> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (String t : LIVE) {
                try {
                    nft("delete table ip " + t + "\n");
                } catch (Exception ignored) {
                    // best effort at JVM exit
                }
            }
        }, "nimbus-it-nft-reaper"));
    }

    private final String table;
    private volatile boolean closed;

    private LoopbackPartitions(String table) {
        this.table = table;
    }

    /** Creates this instance's empty table and chain (no rules: nothing is cut yet). */
    static LoopbackPartitions create() throws IOException, InterruptedException {
        removeTablesOfDeadJvms();
        String table = PREFIX + ProcessHandle.current().pid() + "_" + SEQ.incrementAndGet();
        LIVE.add(table);
        try {
            nft("add table ip " + table + "\n"
                    + "add chain ip " + table + " out { type filter hook output priority 0; policy accept; }\n");
        } catch (IOException | InterruptedException | RuntimeException e) {
            LIVE.remove(table);
            throw e;
        }
        System.out.printf("[it] nftables table ip %s created%n", table);
        return new LoopbackPartitions(table);
    }

    String table() {
        return table;
    }

    /**
     * Replaces the current cut by one between the groups: every packet from an address of one group to
     * an address of another group is dropped. Addresses in no group talk to everyone.
     */
    synchronized void cut(List<? extends Collection<String>> groups) throws IOException, InterruptedException {
        requireOpen();
        StringBuilder script = new StringBuilder("flush chain ip " + table + " out\n");
        for (int i = 0; i < groups.size(); i++) {
            for (int j = 0; j < groups.size(); j++) {
                if (i == j) {
                    continue;
                }
                for (String from : groups.get(i)) {
                    for (String to : groups.get(j)) {
                        script.append("add rule ip ").append(table).append(" out ip saddr ").append(checked(from))
                                .append(" ip daddr ").append(checked(to)).append(" drop\n");
                    }
                }
            }
        }
        nft(script.toString()); // one transaction: the old cut and the new one never mix
    }

    /** Removes every rule of this instance's table: all traffic flows again. */
    synchronized void heal() throws IOException, InterruptedException {
        requireOpen();
        nft("flush chain ip " + table + " out\n");
    }

    /** The rules currently in this instance's table, as {@code nft} lists them (for diagnostics). */
    String rules() {
        try {
            return run(List.of("nft", "list", "table", "ip", table), null);
        } catch (Exception e) {
            return "<" + e + ">";
        }
    }

    /** Deletes this instance's table (and so every rule it added). Idempotent. */
    @Override
    public synchronized void close() throws IOException, InterruptedException {
        if (closed) {
            return;
        }
        if (tables().contains(table)) {
            nft("delete table ip " + table + "\n");
        }
        closed = true;
        LIVE.remove(table);
        System.out.printf("[it] nftables table ip %s deleted%n", table);
    }

    /** The names of all {@code ip nimbus_it_*} tables on this machine right now. */
    static List<String> tables() throws IOException, InterruptedException {
        String listing = run(List.of("nft", "list", "tables"), null);
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^table ip (" + PREFIX + "\\S+)\\s*$").matcher(listing);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** Whether the {@code nft} tool can be run here. */
    static boolean nftAvailable() {
        try {
            run(List.of("nft", "--version"), null);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static void removeTablesOfDeadJvms() throws IOException, InterruptedException {
        for (String t : tables()) {
            Matcher m = Pattern.compile(PREFIX + "(\\d+)_\\d+").matcher(t);
            if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
                nft("delete table ip " + t + "\n");
                System.out.printf("[it] deleted nftables table ip %s left by a JVM that is gone%n", t);
            }
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("table " + table + " was deleted");
        }
    }

    private static String checked(String address) {
        if (!address.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
            throw new IllegalArgumentException("not a loopback address: " + address);
        }
        return address;
    }

    private static void nft(String script) throws IOException, InterruptedException {
        run(List.of("nft", "-f", "-"), script);
    }

    private static String run(List<String> cmd, String stdin) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " did not finish within 20 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + out
                    + (stdin == null ? "" : "\nscript:\n" + stdin));
        }
        return out;
    }
}
