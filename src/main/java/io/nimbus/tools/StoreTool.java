package io.nimbus.tools;

import io.nimbus.core.topology.Topology;
import io.nimbus.storage.CommitGate;
import io.nimbus.storage.DiskSpace;
import io.nimbus.storage.MapDbStore;
import io.nimbus.storage.StoreFailedException;
import io.nimbus.storage.StoreOpenException;
import io.nimbus.storage.StoreSalvage;
import io.nimbus.storage.StoreSettings;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** Offline store commands: {@code store verify} and {@code store salvage}. Run them only on a stopped node. */
public final class StoreTool {
    static final String USAGE = """
            Usage: java -jar target/quarkus-app/quarkus-run.jar store COMMAND [options]   (on a stopped node)
              verify  --data-dir DIR             open the store as a node would (replaying its log) and
                                                 read and decode every record; exit 0 if intact, 2 if not
              salvage --data-dir DIR --to NEW    rebuild a damaged store into the new directory NEW from
                                                 every record MapDB can still read plus the intact log; DIR
                                                 is only read. NEW gets a new host id and no topology: the
                                                 cluster sees a new worker and replaces the old one
                      [--keep-identity]          keep the host id and topology instead; refused for a
                                                 replica of a cluster with RF > 1 (a replica that may have
                                                 lost promises must not vote under its old identity)
            Then move DIR aside and NEW into its place, and start the node.
            """;

    private StoreTool() {
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            out.print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        Path dir = null;
        Path to = null;
        boolean keep = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--data-dir" -> dir = i + 1 < args.length ? Path.of(args[++i]) : null;
                case "--to" -> to = i + 1 < args.length ? Path.of(args[++i]) : null;
                case "--keep-identity" -> keep = true;
                default -> {
                    err.println("store: unknown option '" + args[i] + "'");
                    err.print(USAGE);
                    return 2;
                }
            }
        }
        if (dir == null) {
            err.println("store: --data-dir DIR is required");
            err.print(USAGE);
            return 2;
        }
        try {
            switch (command) {
                case "verify" -> {
                    return verify(dir, out, err);
                }
                case "salvage" -> {
                    if (to == null) {
                        err.println("store salvage: --to NEW is required (a new, empty directory)");
                        return 2;
                    }
                    StoreSalvage.Report r = StoreSalvage.salvage(dir, to, keep, settings(to));
                    out.printf("salvaged %d keys into %s (%d unreadable%s), replayed %d log records; host id %s (%s)%n",
                            r.keysCopied(), to.toAbsolutePath(), r.keysUnreadable(),
                            r.listingCut() ? ", listing cut short: keys behind a damaged index page are lost" : "",
                            r.logRecordsReplayed(), r.hostId(), r.keptIdentity() ? "kept, topology epoch "
                                    + r.topologyEpoch() : "new: the cluster must replace the old worker");
                    r.problems().forEach(p -> out.println("  problem: " + p));
                    return r.listingCut() || r.keysUnreadable() > 0 ? 1 : 0;
                }
                default -> {
                    err.println("store: unknown command '" + command + "'");
                    err.print(USAGE);
                    return 2;
                }
            }
        } catch (IllegalArgumentException | IOException | StoreOpenException e) {
            err.println("store " + command + ": " + e.getMessage());
            return 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("store " + command + ": interrupted");
            return 1;
        }
    }

    private static int verify(Path dir, PrintStream out, PrintStream err) {
        if (!java.nio.file.Files.isRegularFile(dir.resolve("nimbus.db"))) {
            err.println("store verify: " + dir.toAbsolutePath() + " holds no store (no nimbus.db): nothing to verify");
            return 2; // opening it would create an empty store
        }
        try (MapDbStore store = MapDbStore.open(settings(dir))) {
            long keys = store.verify();
            Topology t = store.topology();
            out.printf("intact: %d keys, host id %s, %s%n", keys, store.hostId(),
                    t == null ? "no topology" : "cluster " + t.clusterId() + " epoch " + t.epoch());
            return 0;
        } catch (StoreOpenException | StoreFailedException e) {
            err.println("store verify: " + e.getMessage());
            err.println("store verify: rebuild it with 'store salvage --data-dir " + dir + " --to NEW'");
            return 2;
        } catch (RuntimeException e) {
            err.println("store verify: the store is damaged: " + e);
            err.println("store verify: rebuild it with 'store salvage --data-dir " + dir + " --to NEW'");
            return 2;
        }
    }

    private static StoreSettings settings(Path dir) {
        return new StoreSettings(dir, "store-tool", 10_000, 512, 1000, 64L << 20,
                () -> TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()), CommitGate.NONE, UUID::randomUUID,
                new StoreSettings.DiskLimits(0, 4L << 20, DiskSpace.of(dir)));
    }
}
