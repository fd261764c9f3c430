package io.nimbus.core.topology;

/**
 * The replica's check of a Paxos request against the topology it holds (TOPOLOGY.md §2, §4). Decided
 * on the store's writer thread, against the topology current at decision time, so that learning an
 * epoch and deciding a transition are totally ordered.
 */
public final class Fence {
    private Fence() {
    }

    public enum Verdict {
        /** Process it. */
        OK,
        /** The request's epoch is older than the last placement change of its range here: refuse, say my epoch. */
        STALE,
        /** The request names another host id (or this node holds no topology): refuse; this store is not that replica. */
        NOT_ME,
        /** The request is newer than my topology: process it, and fetch the newer topology. */
        BEHIND
    }

    /**
     * @param mine          the topology this replica holds (null: none yet)
     * @param rangeChangedAt the epoch of the last placement change of the request's key ({@link Topology#changedAt(long)},
     *                      or {@link Topology#electorateChangedAt()} for the topology register)
     */
    public static Verdict check(Topology mine, long rangeChangedAt, long requestEpoch, HostId requestHost, HostId myHost) {
        if (mine == null || !myHost.equals(requestHost)) {
            return Verdict.NOT_ME;
        }
        if (requestEpoch < rangeChangedAt) {
            return Verdict.STALE;
        }
        return requestEpoch > mine.epoch() ? Verdict.BEHIND : Verdict.OK;
    }
}
