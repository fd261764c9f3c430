package io.nimbus.sim.paxos;

import io.nimbus.core.coordinator.Coordination;
import io.nimbus.core.coordinator.KeyQueue;
import io.nimbus.core.coordinator.Result;
import io.nimbus.core.coordinator.RetryPolicy;
import io.nimbus.core.coordinator.Routing;
import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.BallotClock;
import io.nimbus.core.kv.ConsistencyLevel;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Mutation;
import io.nimbus.core.kv.Precondition;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.core.paxos.Proposer;
import io.nimbus.core.paxos.Quorum;
import io.nimbus.core.topology.HostId;
import io.nimbus.core.topology.Replica;
import io.nimbus.sim.EventQueue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Compare-and-set against blind writers on one hot key, in virtual time: three nodes, each an acceptor
 * (durable at once) and a coordinator running the real {@link Coordination} per request in the order
 * of the real {@link KeyQueue}, as the {@code Coordinator} shell does. Closed-loop clients, each
 * attached to one node: half write blindly, half read the key and then write it {@code If-Match} the
 * version they read. No faults: this measures fairness, not safety ({@link PaxosSim} checks safety and
 * linearizability with the same queue). One seed decides every delay and backoff.
 */
final class CasContentionSim {

    /** What one run measured. */
    record Figures(long casTried, long casApplied, long casConflicts, long blindTried, long blindApplied,
                   long unknown, long timedOut) {
        double casSuccess() {
            return casTried == 0 ? 0 : (double) casApplied / casTried;
        }

        double blindSuccess() {
            return blindTried == 0 ? 0 : (double) blindApplied / blindTried;
        }

        /** Of the writes that took effect, the share made by compare-and-set. */
        double casShareOfWrites() {
            return casApplied + blindApplied == 0 ? 0 : (double) casApplied / (casApplied + blindApplied);
        }

        @Override
        public String toString() {
            return String.format("cas %d/%d applied (%.1f%%, %d conflicts), blind %d/%d applied (%.1f%%), cas share of "
                            + "applied writes %.1f%%, outcome unknown %d, timed out %d", casApplied, casTried,
                    100 * casSuccess(), casConflicts, blindApplied, blindTried, 100 * blindSuccess(),
                    100 * casShareOfWrites(), unknown, timedOut);
        }
    }

    static final String KEY = "hot";
    static final int NODES = 3;

    private final long seed;
    private final int clientsPerNode;
    private final boolean comparesFirst;
    private final long durationMs;
    private final EventQueue loop = new EventQueue();
    private final SplittableRandom net;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Replica> replicas = new ArrayList<>();
    private long casTried, casApplied, casConflicts, blindTried, blindApplied, unknown, timedOut;
    private int written;

    /**
     * @param clientsPerNode closed-loop clients attached to each node (half blind, half compare-and-set)
     * @param comparesFirst  the queue policy: a waiting compare-and-set goes first (false: first come, first served)
     */
    CasContentionSim(long seed, int clientsPerNode, boolean comparesFirst, long durationMs) {
        this.seed = seed;
        this.clientsPerNode = clientsPerNode;
        this.comparesFirst = comparesFirst;
        this.durationMs = durationMs;
        this.net = new SplittableRandom(seed);
        for (int i = 0; i < NODES; i++) {
            Node n = new Node("n" + (i + 1), net.split());
            nodes.add(n);
            replicas.add(new Replica(n.name, n.host));
        }
    }

    Figures run() {
        for (Node n : nodes) {
            for (int c = 0; c < clientsPerNode; c++) {
                Client client = new Client(n, c % 2 == 1, n.random.split());
                loop.after(n.random.nextInt(5), client::next);
            }
        }
        while (!loop.isEmpty() && loop.nextTime() <= durationMs) {
            loop.runNext();
        }
        return new Figures(casTried, casApplied, casConflicts, blindTried, blindApplied, unknown, timedOut);
    }

    /** One-way delay between two nodes (0 to itself), 1..3 ms. */
    private long delay(Node from, String to) {
        return from.name.equals(to) ? 0 : 1 + net.nextInt(3);
    }

    private Node node(String name) {
        for (Node n : nodes) {
            if (n.name.equals(name)) {
                return n;
            }
        }
        throw new IllegalArgumentException(name);
    }

    private final class Node {
        final String name;
        final HostId host;
        final SplittableRandom random;
        final BallotClock clock;
        final long skewUs;
        final KeyQueue<Request> queue = new KeyQueue<>(comparesFirst);
        final Map<String, KeyState> store = new HashMap<>();

        Node(String name, SplittableRandom random) {
            this.name = name;
            this.host = new HostId(new UUID(0, name.hashCode()));
            this.random = random;
            this.clock = new BallotClock(name, 0);
            this.skewUs = random.nextLong(-2_000, 2_001);
        }

        Ballot nextBallot(Ballot above) {
            if (above != null) {
                clock.observe(above);
            }
            return clock.next(loop.now() * 1000 + 1_000_000 + skewUs);
        }

        PaxosMessage accept(PaxosMessage.Request r) {
            KeyState s = store.getOrDefault(r.key(), KeyState.EMPTY);
            if (r instanceof PaxosMessage.Prepare p) {
                Acceptor.Transition<PaxosMessage.PrepareReply> t = Acceptor.prepare(s, p.ballot());
                store.put(r.key(), t.next());
                clock.observe(t.next().promised());
                return t.reply();
            }
            if (r instanceof PaxosMessage.Propose p) {
                Acceptor.Transition<PaxosMessage.AcceptReply> t = Acceptor.accept(s, p.proposal());
                store.put(r.key(), t.next());
                return t.reply();
            }
            if (r instanceof PaxosMessage.Commit c) {
                store.put(r.key(), Acceptor.commit(s, c.proposal()));
                return new PaxosMessage.Committed();
            }
            return new PaxosMessage.State(s);
        }
    }

    /** One client request at its node: a {@link Coordination} run when the node's {@link KeyQueue} says so. */
    private final class Request {
        final Node node;
        final Coordination core;
        final java.util.function.Consumer<Result> answer;
        boolean ended;

        Request(Node node, Coordination.Request request, java.util.function.Consumer<Result> answer) {
            this.node = node;
            this.answer = answer;
            long deadline = loop.now() + 5_000;
            this.core = new Coordination(KEY, request, ConsistencyLevel.QUORUM,
                    new Routing.Route(1, replicas, ordered(node), Quorum.majority(names()), false),
                    new RetryPolicy(10, 2, 200), node::nextBallot, node.random.split(), deadline);
            loop.at(deadline, () -> handle(core.onDeadline(loop.now())));
        }

        void arrive(KeyQueue.Kind kind) {
            if (node.queue.arrive(KEY, this, kind)) {
                handle(core.start(loop.now()));
            }
        }

        void handle(List<Coordination.Effect> effects) {
            for (Coordination.Effect e : effects) {
                if (e instanceof Coordination.Effect.Send s) {
                    Proposer.Envelope env = s.envelope();
                    Node to = node(env.to());
                    long there = delay(node, env.to());
                    loop.after(there, () -> {
                        PaxosMessage reply = to.accept(env.request());
                        if (!s.repair()) {
                            loop.after(delay(to, node.name), () -> handle(core.onReply(env, reply, loop.now())));
                        }
                    });
                } else if (e instanceof Coordination.Effect.Wake w) {
                    loop.at(Math.max(loop.now(), w.atMs()), () -> handle(core.onWake(loop.now())));
                } else if (e instanceof Coordination.Effect.Done d) {
                    if (ended) {
                        continue;
                    }
                    ended = true;
                    Request next = node.queue.leave(KEY, this);
                    if (next != null) {
                        loop.after(0, () -> next.handle(next.core.start(loop.now())));
                    }
                    answer.accept(d.result());
                } else {
                    throw new IllegalStateException("no topology changes here: " + e);
                }
            }
        }
    }

    private List<Replica> ordered(Node self) {
        List<Replica> out = new ArrayList<>();
        for (Replica r : replicas) {
            if (r.name().equals(self.name)) {
                out.add(0, r);
            } else {
                out.add(r);
            }
        }
        return out;
    }

    private List<String> names() {
        List<String> out = new ArrayList<>();
        replicas.forEach(r -> out.add(r.name()));
        return out;
    }

    /** A closed-loop client one millisecond from its node. */
    private final class Client {
        static final long HOP_MS = 1;
        final Node node;
        final boolean cas;
        final SplittableRandom random;

        Client(Node node, boolean cas, SplittableRandom random) {
            this.node = node;
            this.cas = cas;
            this.random = random;
        }

        void next() {
            if (loop.now() > durationMs) {
                return;
            }
            if (cas) {
                send(new Coordination.Request.Read(), KeyQueue.Kind.PLAIN, r -> {
                    Ballot v = r instanceof Result.Read read && read.committed() != null && !read.committed().isTombstone()
                            ? read.committed().version() : null;
                    if (v == null) {
                        loop.after(HOP_MS, this::next);
                        return;
                    }
                    casTried++;
                    send(new Coordination.Request.Write(new Mutation(KEY, value(),
                            new Precondition.VersionIn(List.of(v)))), KeyQueue.Kind.COMPARE, w -> {
                        if (w instanceof Result.Written) {
                            casApplied++;
                        } else if (w instanceof Result.PreconditionFailed) {
                            casConflicts++;
                        } else {
                            count(w);
                        }
                        next();
                    });
                });
            } else {
                blindTried++;
                send(new Coordination.Request.Write(new Mutation(KEY, value(), Precondition.NONE)), KeyQueue.Kind.PLAIN, w -> {
                    if (w instanceof Result.Written) {
                        blindApplied++;
                    } else {
                        count(w);
                    }
                    next();
                });
            }
        }

        private void count(Result r) {
            if (r.outcomeUnknown()) {
                unknown++;
            } else {
                timedOut++;
            }
        }

        private byte[] value() {
            return ("v" + (++written)).getBytes(StandardCharsets.UTF_8);
        }

        /** The request reaches the node one hop later; its answer reaches the client one hop after it ends. */
        private void send(Coordination.Request request, KeyQueue.Kind kind, java.util.function.Consumer<Result> then) {
            loop.after(HOP_MS, () -> new Request(node, request, r -> loop.after(HOP_MS, () -> then.accept(r))).arrive(kind));
        }
    }

    @Override
    public String toString() {
        return "seed=" + seed + " clients=" + NODES * clientsPerNode + " comparesFirst=" + comparesFirst;
    }
}
