package io.nimbus.core.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.BallotClock;
import io.nimbus.core.kv.Proposal;

import java.util.ArrayList;
import java.util.List;

/**
 * How far ahead of the receiver's clock a ballot may be. Ballot counters are microseconds of the
 * issuing node's wall clock (raised past every ballot it saw, see {@link BallotClock}), so an honest
 * ballot is ahead of a receiver's clock only by the two clocks' skew plus the few ballots issued within
 * one microsecond. A counter further ahead is forged or corrupt: once stored it would make every later
 * proposal on its key lose (a promise no clock reaches), and it would drag the ballot clocks of every
 * node that observes it into the future. The receiver refuses such a message before it reaches the
 * acceptor or the coordinator's clock.
 *
 * <p>The bound must exceed any clock skew tolerated in the cluster; the default (one hour) is far above
 * what NTP leaves and far below what keeps a key locked: once the receiver's clock passes a ballot that
 * it let in, ordinary ballots overtake it.
 */
public record BallotHorizon(long aheadMaxMicros) {

    public BallotHorizon {
        if (aheadMaxMicros < 0) {
            throw new IllegalArgumentException("ballot horizon must be >= 0 µs, got " + aheadMaxMicros);
        }
    }

    public static BallotHorizon ofMillis(long aheadMaxMs) {
        if (aheadMaxMs < 0 || aheadMaxMs > Long.MAX_VALUE / 1000) {
            throw new IllegalArgumentException("ballot horizon must be 0.." + Long.MAX_VALUE / 1000 + " ms, got " + aheadMaxMs);
        }
        return new BallotHorizon(aheadMaxMs * 1000);
    }

    /** Whether {@code b} is at most the horizon ahead of {@code nowMicros} (the receiver's clock, µs since the epoch). */
    public boolean admits(Ballot b, long nowMicros) {
        // counter >= 0; compare without overflow for any nowMicros
        return nowMicros >= 0 ? b.counter() - nowMicros <= aheadMaxMicros : b.counter() <= aheadMaxMicros + nowMicros;
    }

    /** Why {@code m} is refused (its first ballot beyond the horizon), or null if every ballot it carries is admitted. */
    public String refusal(PaxosMessage m, long nowMicros) {
        for (Ballot b : ballotsOf(m)) {
            if (!admits(b, nowMicros)) {
                return "ballot " + b.token() + " (counter " + b.counter() + " µs) is " + aheadText(b, nowMicros)
                        + " ahead of this node's clock (" + nowMicros + " µs), more than the "
                        + (aheadMaxMicros / 1000) + " ms allowed (nimbus.paxos.ballot-ahead-max-ms): forged, corrupt, "
                        + "or the sender's clock is badly wrong";
            }
        }
        return null;
    }

    private static String aheadText(Ballot b, long nowMicros) {
        double aheadS = ((double) b.counter() - nowMicros) / 1e6;
        return aheadS >= 86_400 ? String.format("%.1f days", aheadS / 86_400) : String.format("%.1f s", aheadS);
    }

    /** Every ballot a Paxos message carries: its own, and those of the proposals and state in it. */
    public static List<Ballot> ballotsOf(PaxosMessage m) {
        List<Ballot> out = new ArrayList<>(4);
        if (m instanceof PaxosMessage.Prepare p) {
            out.add(p.ballot());
        } else if (m instanceof PaxosMessage.Propose p) {
            add(out, p.proposal());
        } else if (m instanceof PaxosMessage.Commit c) {
            add(out, c.proposal());
        } else if (m instanceof PaxosMessage.Promised p) {
            out.add(p.ballot());
            add(out, p.accepted());
            add(out, p.committed());
        } else if (m instanceof PaxosMessage.Accepted a) {
            out.add(a.ballot());
        } else if (m instanceof PaxosMessage.Rejected r) {
            out.add(r.promised());
        } else if (m instanceof PaxosMessage.State s) {
            if (s.state().promised() != null) {
                out.add(s.state().promised());
            }
            add(out, s.state().accepted());
            add(out, s.state().committed());
        }
        return out;
    }

    private static void add(List<Ballot> out, Proposal p) {
        if (p != null) {
            out.add(p.ballot());
            out.add(p.version());
        }
    }
}
