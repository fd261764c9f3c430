package io.nimbus.sim.paxos;

import io.nimbus.sim.Trace;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The shape of one run, drawn from its seed alone (never from the variant, so every variant sees the same
 * cluster, faults and workload). Times are virtual milliseconds.
 *
 * @param nodes             worker nodes (3..5), each an acceptor and a coordinator
 * @param replicasPerKey    for each key, the ids of its replicas (all nodes, or 3 of them), fixed
 * @param clients           concurrent clients (3..8), each attached to one node
 * @param keys              keys the clients use (1..3)
 * @param allShare          share of operations at ALL (the rest at QUORUM)
 * @param minDelayMs        smallest one-way message delay
 * @param maxDelayMs        largest one-way message delay (different delays reorder messages)
 * @param loss              initial message loss probability (the chaos phase changes it)
 * @param duplicate         initial probability that a message is delivered twice
 * @param slow              during the chaos phase, probability that a message is held back up to
 *                          4 request time-outs more (its reply then comes after its silence was reported)
 * @param fsyncMaxMs        an acceptor's transition becomes durable 0..this after it is decided (group commit)
 * @param requestTimeoutMs  per request: no reply by then is a silence ({@code onNoReply}); above the
 *                          largest round trip of a healthy network
 * @param opDeadlineMs      per client operation: after this the client gives up (during the chaos phase
 *                          half the operations are impatient: 2..6 request time-outs)
 * @param attemptsMax       prepare rounds per operation (restarts + 1)
 * @param backoffBaseMs     as the real coordinator: a restart above a rival's ballot waits
 *                          0..min(16·base, base·2^attempt) ms; a restart after finishing an in-flight
 *                          proposal ({@code seen == null}) starts at once
 * @param crashPoint        during the chaos phase, probability that an acceptor, right after deciding a
 *                          transition, crashes within its group-commit window or just after its reply left
 *                          (0..fsyncMax + maxDelay/2 ms later) and restarts 1..20 ms after that
 * @param chaosMs           faults happen during [0, chaosMs); then everything heals
 * @param faultEveryMs      mean time between two fault events during the chaos phase
 * @param postHealOps       operations each client runs after healing; all must complete
 */
record PaxosSimConfig(long seed, int nodes, List<List<String>> replicasPerKey, int clients, int keys,
                      double allShare, long minDelayMs, long maxDelayMs, double loss, double duplicate, double slow,
                      long fsyncMaxMs, long requestTimeoutMs, long opDeadlineMs, int attemptsMax,
                      long backoffBaseMs, double crashPoint, long chaosMs, long faultEveryMs, int postHealOps) {

    static PaxosSimConfig forSeed(long seed) {
        SplittableRandom p = new SplittableRandom(Trace.mix(seed, 0x9A705L));
        int nodes = 3 + p.nextInt(3);
        int keys = 1 + p.nextInt(3);
        boolean allNodes = nodes == 3 || p.nextBoolean();
        List<List<String>> replicas = new ArrayList<>();
        for (int k = 0; k < keys; k++) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < nodes; i++) {
                ids.add(nodeId(i));
            }
            while (!allNodes && ids.size() > 3) {
                ids.remove(p.nextInt(ids.size()));
            }
            replicas.add(List.copyOf(ids));
        }
        int clients = 3 + p.nextInt(6);
        double allShare = p.nextDouble() * 0.2;
        long minDelay = 1 + p.nextInt(5);
        long maxDelay = minDelay + 5 + p.nextInt(100);
        double loss = p.nextDouble() * 0.15;
        double duplicate = p.nextDouble() * 0.1;
        long fsyncMax = p.nextInt(11);
        long roundTrip = 2 * maxDelay + fsyncMax;
        double slow = p.nextDouble() * 0.1;
        long requestTimeout = roundTrip + 5;
        int attempts = 8;
        long backoffBase = Math.max(2, maxDelay / 4);
        long opDeadline = attempts * (3 * requestTimeout + backoffBase * 8);
        double crashPoint = p.nextInt(3) == 0 ? 0 : p.nextDouble() * 0.2;
        long chaos = 1000 + p.nextInt(2000);
        long faultEvery = 50 + p.nextInt(250);
        return new PaxosSimConfig(seed, nodes, List.copyOf(replicas), clients, keys, allShare, minDelay, maxDelay,
                loss, duplicate, slow, fsyncMax, requestTimeout, opDeadline, attempts, backoffBase, crashPoint, chaos, faultEvery, 3);
    }

    static String nodeId(int i) {
        return "n" + (i + 1);
    }

    static String key(int k) {
        return "k" + k;
    }

    int replicationFactor(int key) {
        return replicasPerKey.get(key).size();
    }

    @Override
    public String toString() {
        return "seed=" + seed + " nodes=" + nodes + " rf=" + replicasPerKey.get(0).size() + " clients=" + clients
                + " keys=" + keys + " all=" + pct(allShare) + " delay=" + minDelayMs + ".." + maxDelayMs + "ms loss="
                + pct(loss) + " dup=" + pct(duplicate) + " slow=" + pct(slow) + " fsync<=" + fsyncMaxMs + "ms timeout=" + requestTimeoutMs
                + "ms deadline=" + opDeadlineMs + "ms crashPoint=" + Math.round(crashPoint * 1000) / 10.0 + "% chaos=" + chaosMs + "ms faultEvery~" + faultEveryMs + "ms";
    }

    private static String pct(double x) {
        return Math.round(x * 100) + "%";
    }
}
