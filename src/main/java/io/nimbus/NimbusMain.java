package io.nimbus;

import io.nimbus.tools.BenchTool;
import io.nimbus.tools.LoadTool;
import io.nimbus.tools.StoreTool;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Properties;

/**
 * {@code java -jar quarkus-run.jar} runs a node; {@code ... load [options]} runs the load tool; {@code ... bench} Nimbus vs etcd; {@code ... store ...} checks or rebuilds a store;
 * {@code ... --help} prints both usages, {@code --version} the version; any other argument is refused with the usage.
 */
@QuarkusMain
public class NimbusMain {

    public static final String USAGE = """
            Nimbus — a replicated, strongly consistent key-value store.

            Run a node:
              java @config/jvm.options [-Dname=value ...] -jar target/quarkus-app/quarkus-run.jar
              (from the repository root; config/jvm.options: the heap and collector for a node, README
              "JVM options")
              Settings (system properties, env vars, or application.properties):
                quarkus.http.port                 public HTTP port (8080)
                nimbus.node.id                    node name (<hostname>-<http port>)
                nimbus.role                       worker (stores data) or proxy (routes only) (worker)
                nimbus.data-dir                   MapDB files and write-ahead log (./data)
                nimbus.replication-factor         replicas per key, fixed when the cluster is founded;
                                                  a node whose setting differs uses the cluster's (3)
                nimbus.consistency                default level: ONE, QUORUM, ALL (QUORUM)
                nimbus.limits.max-key-bytes       (1024)
                nimbus.limits.max-value-bytes     (1048576)
                nimbus.limits.write-queue-max     writes waiting for disk before 503 (10000)
                nimbus.limits.write-batch-max     writes per group commit (512)
                nimbus.limits.write-timeout-ms    time for a request to reach its level, else 504 (5000)
                nimbus.storage.disk-free-bytes-min  writes get 503 disk-full below this (67108864)
                nimbus.storage.disk-reserve-bytes   room held for a checkpoint on a full disk (67108864)
                nimbus.storage.row-cache-bytes-max  decoded rows kept in memory beyond those not checkpointed (33554432)
                nimbus.paxos.phase-timeout-ms     time for a replica to answer one phase (1000)
                nimbus.paxos.attempts-max         attempts when rival ballots pre-empt a request (10)
                nimbus.paxos.backoff-base-ms      randomized backoff before a retry (2) ...
                nimbus.paxos.backoff-max-ms       ... doubling up to this (200)
                nimbus.paxos.in-flight-max        requests coordinated at once before 503 (4096)
                nimbus.paxos.commit-linger-ms     a commit not waited for waits this long for a
                                                  request to the same peer to ride with (0)
                nimbus.paxos.commits-owed-bytes-max
                                                  commits owed to one peer that wait again after its
                                                  full bulkhead refused them (8388608)
                nimbus.paxos.forward-writes       a QUORUM/ALL write goes to its key's first live
                                                  replica, which coordinates it (true)
                nimbus.paxos.terms-max            keys whose next write from this node may skip the
                                                  prepare (its term on them); 0: none (16384)
                nimbus.paxos.compares-first       a waiting compare-and-set runs before waiting
                                                  blind writes on its key (true)
                nimbus.paxos.ballot-ahead-max-ms  ballots further ahead of this node's clock are
                                                  refused as forged; above clock skew (3600000)
                nimbus.ring.tokens                virtual nodes per worker (16)
                nimbus.cluster.seeds              host:cluster-port list to join through (none: alone)
                nimbus.cluster.bootstrap          may a worker with a never-used store found a new
                                                  cluster: true, false or a node id (true without
                                                  seeds other than itself, else false)
                nimbus.api.auth.enabled           require bearer tokens with roles read, write, admin (false)
                nimbus.api.auth.tokens-file       '<sha-256 of token> <role>[,<role>] [name]' lines
                nimbus.cluster.secret             shared secret peers prove; also MACs every frame
                nimbus.cluster.tls.cert-file      mutual TLS on the cluster port (recommended): this
                nimbus.cluster.tls.key-file       node's certificate and key, and the CA bundle peers
                nimbus.cluster.tls.trust-file     must chain to (PEM). A node whose cluster port is not
                                                  on loopback refuses to start without TLS or a secret
                nimbus.cluster.*, nimbus.gossip.* the cluster port, discovery, handshake and idle
                                                  time-outs, connection limits, gossip timing: README.md
                nimbus.peer.*                     guards on calls to each peer: time-out ceiling,
                                                  circuit breaker, bulkhead: see README.md
                nimbus.http.*                     request target and header limits, body time-out:
                                                  see README.md

            Drive load against a node:
              java -jar target/quarkus-app/quarkus-run.jar load --help

            Benchmark 3 local workers against a local 3-member etcd (docs/PERFORMANCE.md):
              java -jar target/quarkus-app/quarkus-run.jar bench --help

            Check or rebuild a stopped node's store:
              java -jar target/quarkus-app/quarkus-run.jar store --help

            Print the version:
              java -jar target/quarkus-app/quarkus-run.jar --version
            """;

    /** What {@code store ...} says in a build without MapDB (a proxy build). */
    public static final String NO_STORE_TOOL = "nimbus: the store tool is not part of this build: a proxy build "
            + "carries no MapDB. Use the worker (or any-role) build: java -jar target/quarkus-app/quarkus-run.jar store";

    public static void main(String... args) {
        if (args.length > 0) {
            System.exit(command(args, System.out, System.err));
        }
        // Quarkus refuses a request target java.net.URI cannot parse with a bare 400 before any route runs;
        // io.nimbus.api.HttpEdge checks targets more strictly and answers with a problem that says what to fix
        System.setProperty("vertx.disableURIValidation", "true");
        Quarkus.run(args);
    }

    /**
     * Runs the tool or prints what {@code args} (at least one) asks for and returns the exit code; a node runs
     * only without arguments, so an argument nobody reads (a typo, {@code -Dname=value} after {@code -jar}) is
     * an error, never a node started with settings it was not given.
     */
    static int command(String[] args, PrintStream out, PrintStream err) {
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "load":
                return LoadTool.run(rest, out, err);
            case "bench":
                return BenchTool.run(rest, out, err);
            case "store":
                if (!hasMapDb()) {
                    err.println(NO_STORE_TOOL);
                    return 2;
                }
                return StoreTool.run(rest, out, err);
            case "--help", "-h", "help":
                out.print(USAGE);
                return 0;
            case "--version", "-V", "version":
                out.println("nimbus " + version());
                return 0;
            default:
                err.println("nimbus: unknown argument '" + args[0] + "'" + (args[0].startsWith("-D")
                        ? " (a system property goes before -jar: java -Dname=value -jar quarkus-run.jar)" : "")
                        + "; a node runs without arguments.");
                err.print(USAGE);
                return 2;
        }
    }

    /** The project version this was built from ({@code nimbus-version.properties}, filtered by Maven). */
    static String version() {
        try (InputStream in = NimbusMain.class.getResourceAsStream("/nimbus-version.properties")) {
            if (in == null) {
                return "(unknown: nimbus-version.properties is not in this build)";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "(unknown)");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read nimbus-version.properties", e);
        }
    }

    private static boolean hasMapDb() {
        try {
            Class.forName("org.mapdb.DB", false, NimbusMain.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false; // a proxy build: MapDB was left out on purpose
        }
    }
}
