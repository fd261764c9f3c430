package io.nimbus;

import io.nimbus.tools.LoadTool;
import io.nimbus.tools.StoreTool;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.util.Arrays;

/**
 * {@code java -jar quarkus-run.jar} runs a node; {@code ... load [options]} runs the load tool; {@code ... store ...} checks or rebuilds a store;
 * {@code ... --help} prints both usages.
 */
@QuarkusMain
public class NimbusMain {

    public static final String USAGE = """
            Nimbus — a replicated, strongly consistent key-value store.

            Run a node:
              java [-Dname=value ...] -jar target/quarkus-app/quarkus-run.jar
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
                nimbus.paxos.phase-timeout-ms     time for a replica to answer one phase (1000)
                nimbus.paxos.attempts-max         attempts when rival ballots pre-empt a request (10)
                nimbus.paxos.backoff-base-ms      randomized backoff before a retry (2) ...
                nimbus.paxos.backoff-max-ms       ... doubling up to this (200)
                nimbus.paxos.in-flight-max        requests coordinated at once before 503 (4096)
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
                nimbus.http.*                     request target and header limits, body time-out:
                                                  see README.md

            Drive load against a node:
              java -jar target/quarkus-app/quarkus-run.jar load --help

            Check or rebuild a stopped node's store:
              java -jar target/quarkus-app/quarkus-run.jar store --help
            """;

    public static void main(String... args) {
        if (args.length > 0 && args[0].equals("load")) {
            System.exit(LoadTool.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
        }
        if (args.length > 0 && args[0].equals("store")) {
            System.exit(StoreTool.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
        }
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.print(USAGE);
            System.exit(0);
        }
        // Quarkus refuses a request target java.net.URI cannot parse with a bare 400 before any route runs;
        // io.nimbus.api.HttpEdge checks targets more strictly and answers with a problem that says what to fix
        System.setProperty("vertx.disableURIValidation", "true");
        Quarkus.run(args);
    }
}
