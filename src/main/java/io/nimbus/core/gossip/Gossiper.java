package io.nimbus.core.gossip;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * One node's membership protocol as a pure state machine. Time comes in as {@code nowMs} arguments;
 * randomness from the {@link RandomGenerator} it is given; messages go out as return values. It does
 * no I/O and is not thread-safe: the shell calls it from one thread (or under one lock).
 *
 * <p><b>Merge rule</b> ({@link #merge}): a state with a higher generation replaces the whole entry;
 * with the same generation, the newer heartbeat and the newer info are taken independently; a
 * generation more than {@code generationJumpMax} above the known one, or more than
 * {@code generationAheadMaxMs} ahead of this node's clock ({@link GenerationHorizon}), is refused as
 * implausible; nothing from others about this node itself is ever taken — but a state of this node that
 * outranks its own (a higher generation, or a higher version of its generation: only a forgery or a
 * corrupt peer makes one) is overridden at once: this node moves to the generation above it, so that
 * its real state wins everywhere again (as SWIM's refutation does) instead of a forged LEFT keeping it
 * out of the cluster, across restarts, until its clock passes the forged generation.
 *
 * <p><b>Failure detection</b> (local, per peer): a peer is unreachable when its heartbeat (learned
 * from anyone) has not advanced for {@code failureTimeoutMs}, or when it left {@code missedAcksMax}
 * of our spreads in a row unanswered; it is reachable again when both clear. Unreachable peers are
 * still probed now and then. In a large cluster a heartbeat needs about log2(N) rounds to reach
 * everyone, with a long tail, so the heartbeat timeout used is the larger of {@code failureTimeoutMs}
 * and 3·⌈log2 N⌉ rounds (a fixed 5 s falsely suspected healthy peers at 100 nodes in simulation).
 * {@code LEFT} nodes are not gossiped to, but are probed rarely, so that a node that left and came
 * back (with a new generation) but knows no one can be found again.
 */
public final class Gossiper {
    /** LEFT nodes are probed this many times less often than unreachable ones. */
    private static final int LEFT_PROBE_RARITY = 4;

    private final String selfId;
    private final GossipSettings settings;
    private final RandomGenerator random;
    private final Map<String, NodeState> states = new TreeMap<>();
    private final Map<String, Liveness> liveness = new HashMap<>();
    private final Deque<String> roundRobin = new ArrayDeque<>();
    private final List<Endpoint> seeds = new ArrayList<>();
    private long version;
    private boolean heardFromPeer;
    private final boolean expectsPeers;
    private int nextSeed;
    private long nextSeedAttemptMs;
    private long seedBackoffMs;

    private static final class Liveness {
        long heartbeat = -1;
        long generation = -1;
        long changedAtMs;
        int missedAcks;
    }

    public Gossiper(String selfId, long generation, NodeInfo selfInfo, GossipSettings settings, RandomGenerator random) {
        this.selfId = selfId;
        this.settings = settings;
        this.random = random;
        this.version = 1;
        states.put(selfId, new NodeState(selfId, generation, 1, 1, selfInfo));
        for (Endpoint seed : settings.seeds()) {
            addSeed(seed);
        }
        this.expectsPeers = !seeds.isEmpty();
        this.seedBackoffMs = settings.intervalMs();
    }

    public String selfId() {
        return selfId;
    }

    public NodeState self() {
        return states.get(selfId);
    }

    /** Adds an endpoint to catch up from (seeds, or peers found by discovery). Own endpoint is ignored. */
    public void addSeed(Endpoint seed) {
        if (!seed.equals(self().info().endpoint()) && !seeds.contains(seed)) {
            seeds.add(seed);
        }
    }

    /**
     * True once this node has caught up: it heard from a peer, or it was configured with no one to
     * expect (no seeds other than itself). Peers found later by discovery do not make a node that
     * started alone un-join; once true, it stays true.
     */
    public boolean joined() {
        return heardFromPeer || !expectsPeers;
    }

    /** The endpoints this node catches up from (configured seeds and discovered peers). */
    public List<Endpoint> seeds() {
        return List.copyOf(seeds);
    }

    /** Changes this node's announced state (status, tokens); others learn it by gossip. */
    public void updateSelf(NodeInfo info) {
        NodeState s = self();
        states.put(selfId, new NodeState(selfId, s.generation(), s.heartbeat(), ++version, info));
    }

    /** One gossip round: bump the heartbeat, update failure detection, choose whom to spread to. */
    public List<Outbound> tick(long nowMs) {
        NodeState s = self();
        states.put(selfId, new NodeState(selfId, s.generation(), ++version, s.infoVersion(), s.info()));
        List<Outbound> out = new ArrayList<>(3);
        GossipMessage.Syn syn = syn();
        List<String> reachable = new ArrayList<>();
        List<String> unreachable = new ArrayList<>();
        List<String> left = new ArrayList<>();
        for (NodeState n : states.values()) {
            if (n.id().equals(selfId)) {
                continue;
            }
            if (n.info().status() == NodeStatus.LEFT) {
                left.add(n.id());
                continue;
            }
            (isReachable(n.id(), nowMs) ? reachable : unreachable).add(n.id());
        }
        String peer = switch (settings.strategy()) {
            case RANDOM -> reachable.isEmpty() ? null : reachable.get(random.nextInt(reachable.size()));
            case ROUND_ROBIN -> nextRoundRobin();
        };
        if (peer != null) {
            out.add(new Outbound(states.get(peer).info().endpoint(), peer, syn));
        }
        if (settings.strategy() == GossipSettings.Strategy.RANDOM && !unreachable.isEmpty()
                && random.nextDouble() < (double) unreachable.size() / (reachable.size() + 1)) {
            String probe = unreachable.get(random.nextInt(unreachable.size()));
            out.add(new Outbound(states.get(probe).info().endpoint(), probe, syn));
        }
        if (!left.isEmpty() && random.nextDouble() < (double) left.size() / (LEFT_PROBE_RARITY * (reachable.size() + 1))) {
            String probe = left.get(random.nextInt(left.size()));
            out.add(new Outbound(states.get(probe).info().endpoint(), probe, syn));
        }
        if (!heardFromPeer && !seeds.isEmpty() && nowMs >= nextSeedAttemptMs) {
            Endpoint seed = seeds.get(nextSeed++ % seeds.size());
            out.add(new Outbound(seed, null, syn));
            nextSeedAttemptMs = nowMs + seedBackoffMs;
            seedBackoffMs = Math.min(seedBackoffMs * 2, settings.seedBackoffMaxMs());
        }
        return out;
    }

    private String nextRoundRobin() {
        for (int attempts = 0; attempts < 2; attempts++) {
            while (!roundRobin.isEmpty()) {
                String id = roundRobin.pollFirst();
                NodeState n = states.get(id);
                if (n != null && n.info().status() != NodeStatus.LEFT) {
                    return id;
                }
            }
            List<String> all = new ArrayList<>();
            for (NodeState n : states.values()) {
                if (!n.id().equals(selfId) && n.info().status() != NodeStatus.LEFT) {
                    all.add(n.id());
                }
            }
            shuffle(all);
            roundRobin.addAll(all);
        }
        return null;
    }

    private void shuffle(List<String> list) {
        for (int i = list.size() - 1; i > 0; i--) {
            Collections.swap(list, i, random.nextInt(i + 1));
        }
    }

    private GossipMessage.Syn syn() {
        List<Digest> digests = new ArrayList<>(states.size());
        for (NodeState n : states.values()) {
            digests.add(n.digest());
        }
        if (digests.size() > settings.digestsPerMessageMax()) {
            Digest mine = self().digest();
            digests.remove(mine);
            shuffleDigests(digests);
            digests = new ArrayList<>(digests.subList(0, settings.digestsPerMessageMax() - 1));
            digests.add(mine);
        }
        return new GossipMessage.Syn(selfId, self().info().endpoint(), digests);
    }

    private void shuffleDigests(List<Digest> list) {
        for (int i = list.size() - 1; i > 0; i--) {
            Collections.swap(list, i, random.nextInt(i + 1));
        }
    }

    /** A spread arrived: answer with what we have newer, and ask for what they have newer. */
    public GossipMessage.Ack onSyn(GossipMessage.Syn syn, long nowMs) {
        if (!syn.from().equals(selfId)) {
            // a spread proves the peer is alive, but teaches nothing yet: joining waits for states (ack / ack2)
            sawDirectly(syn.from());
        }
        List<NodeState> send = new ArrayList<>();
        List<Digest> want = new ArrayList<>();
        Map<String, Digest> theirs = new HashMap<>();
        for (Digest d : syn.digests()) {
            theirs.put(d.id(), d);
            NodeState mine = states.get(d.id());
            if (mine == null) {
                want.add(new Digest(d.id(), -1, -1));
            } else if (mine.isNewerThan(d.generation(), d.maxVersion())) {
                send.add(mine);
            } else if (d.generation() > mine.generation()
                    || (d.generation() == mine.generation() && d.maxVersion() > mine.maxVersion())) {
                want.add(mine.digest());
            }
        }
        for (NodeState mine : states.values()) {
            if (!theirs.containsKey(mine.id())) {
                send.add(mine);
            }
        }
        return new GossipMessage.Ack(selfId, capped(send), want);
    }

    /** Our spread was answered: take what is newer, push what was asked for (null if nothing). */
    public GossipMessage.Ack2 onAck(GossipMessage.Ack ack, long nowMs) {
        heardFromPeer = true;
        seedBackoffMs = settings.intervalMs();
        sawDirectly(ack.from());
        for (NodeState s : ack.states()) {
            merge(s, nowMs);
        }
        List<NodeState> send = new ArrayList<>();
        for (Digest d : ack.requests()) {
            NodeState mine = states.get(d.id());
            if (mine != null && mine.isNewerThan(d.generation(), d.maxVersion())) {
                send.add(mine);
            }
        }
        return send.isEmpty() ? null : new GossipMessage.Ack2(selfId, capped(send));
    }

    public void onAck2(GossipMessage.Ack2 ack2, long nowMs) {
        if (!ack2.states().isEmpty() && !ack2.from().equals(selfId)) {
            heardFromPeer = true;
        }
        for (NodeState s : ack2.states()) {
            merge(s, nowMs);
        }
    }

    /** A spread to {@code peerId} got no answer in time (peerId null: a seed; nothing to count). */
    public void onNoAnswer(String peerId) {
        if (peerId == null) {
            return;
        }
        Liveness l = liveness.get(peerId);
        if (l != null) {
            l.missedAcks++;
        }
    }

    private void sawDirectly(String peerId) {
        Liveness l = liveness.get(peerId);
        if (l != null) {
            l.missedAcks = 0;
        }
    }

    private List<NodeState> capped(List<NodeState> list) {
        if (list.size() <= settings.statesPerMessageMax()) {
            return list;
        }
        List<NodeState> copy = new ArrayList<>(list);
        for (int i = copy.size() - 1; i > 0; i--) {
            Collections.swap(copy, i, random.nextInt(i + 1));
        }
        return copy.subList(0, settings.statesPerMessageMax());
    }

    /** Outcome of merging one incoming state. */
    public enum MergeResult { NEW, UPDATED, OLD, IMPLAUSIBLE_GENERATION, SELF }

    /** Applies the merge rule to one incoming state. */
    public MergeResult merge(NodeState incoming, long nowMs) {
        if (!settings.generationHorizon().admits(incoming.generation(), nowMs)) {
            return MergeResult.IMPLAUSIBLE_GENERATION;
        }
        if (incoming.id().equals(selfId)) {
            NodeState s = self();
            if (incoming.isNewerThan(s.generation(), s.maxVersion())) {
                // someone holds a state of this node that outranks its own: override it with a higher generation
                version++;
                states.put(selfId, new NodeState(selfId, Math.max(s.generation(), incoming.generation()) + 1, version,
                        version, s.info()));
            }
            return MergeResult.SELF;
        }
        NodeState mine = states.get(incoming.id());
        MergeResult result;
        NodeState next;
        if (mine == null) {
            next = incoming;
            result = MergeResult.NEW;
        } else if (incoming.generation() > mine.generation()) {
            if (incoming.generation() - mine.generation() > settings.generationJumpMax()) {
                return MergeResult.IMPLAUSIBLE_GENERATION;
            }
            next = incoming;
            result = MergeResult.UPDATED;
        } else if (incoming.generation() < mine.generation()) {
            return MergeResult.OLD;
        } else {
            boolean newerBeat = incoming.heartbeat() > mine.heartbeat();
            boolean newerInfo = incoming.infoVersion() > mine.infoVersion();
            if (!newerBeat && !newerInfo) {
                return MergeResult.OLD;
            }
            next = new NodeState(mine.id(), mine.generation(),
                    newerBeat ? incoming.heartbeat() : mine.heartbeat(),
                    newerInfo ? incoming.infoVersion() : mine.infoVersion(),
                    newerInfo ? incoming.info() : mine.info());
            result = MergeResult.UPDATED;
        }
        states.put(next.id(), next);
        Liveness l = liveness.computeIfAbsent(next.id(), id -> new Liveness());
        if (next.generation() != l.generation || next.heartbeat() != l.heartbeat) {
            if (next.generation() != l.generation) {
                l.missedAcks = 0;
            }
            l.generation = next.generation();
            l.heartbeat = next.heartbeat();
            l.changedAtMs = nowMs;
        }
        return result;
    }

    /** Whether this node currently considers {@code id} reachable. */
    public boolean isReachable(String id, long nowMs) {
        if (id.equals(selfId)) {
            return true;
        }
        NodeState n = states.get(id);
        Liveness l = liveness.get(id);
        if (n == null || l == null || n.info().status() == NodeStatus.LEFT) {
            return false;
        }
        return l.missedAcks < settings.missedAcksMax() && nowMs - l.changedAtMs <= heartbeatTimeoutMs();
    }

    /** The larger of the configured time-out and 3·⌈log2 N⌉ rounds for the N nodes not LEFT. */
    public long heartbeatTimeoutMs() {
        int live = 0;
        for (NodeState n : states.values()) {
            if (n.info().status() != NodeStatus.LEFT) {
                live++;
            }
        }
        int log2 = 64 - Long.numberOfLeadingZeros(Math.max(1, live - 1));
        return Math.max(settings.failureTimeoutMs(), 3L * log2 * settings.intervalMs());
    }

    /** This node's view: every member it knows, in id order. */
    public List<Member> members(long nowMs) {
        List<Member> out = new ArrayList<>(states.size());
        for (NodeState n : states.values()) {
            out.add(new Member(n.id(), n.info(), n.generation(), n.heartbeat(), isReachable(n.id(), nowMs),
                    n.id().equals(selfId)));
        }
        return out;
    }

    /** The state known for {@code id}, or null. */
    public NodeState state(String id) {
        return states.get(id);
    }

    public int size() {
        return states.size();
    }
}
