package io.nimbus.core.paxos;

import io.nimbus.core.kv.Ballot;
import io.nimbus.core.kv.KeyState;
import io.nimbus.core.kv.Proposal;

/**
 * The acceptor as pure transitions on one key's registers. Each returns the next state (the same
 * object when nothing changes, so the shell knows no write is needed) and the reply; the shell must
 * make the next state durable before the reply leaves the node.
 */
public final class Acceptor {
    private Acceptor() {
    }

    /** A transition: {@code next == current} means nothing to persist. */
    public record Transition<R>(KeyState next, R reply) {
        public boolean changed(KeyState current) {
            return next != current;
        }
    }

    /**
     * Prepare(b): promise never to accept a ballot below b, and report what was accepted and
     * committed, so the proposer can finish an in-flight proposal. Refused unless b is above the
     * current promise.
     */
    public static Transition<PaxosMessage.PrepareReply> prepare(KeyState s, Ballot b) {
        if (s.promised() != null && b.compareTo(s.promised()) <= 0) {
            return new Transition<>(s, new PaxosMessage.Rejected(s.promised()));
        }
        return new Transition<>(new KeyState(b, s.accepted(), s.committed()),
                new PaxosMessage.Promised(b, s.accepted(), s.committed()));
    }

    /**
     * Accept(p): accept unless a higher ballot was promised since, or (under the ballot of the proposal accepted
     * here) a later write of the term was accepted already — a delayed copy of an earlier proposal must not take
     * the register back ({@link Proposal#ORDER}).
     */
    public static Transition<PaxosMessage.AcceptReply> accept(KeyState s, Proposal p) {
        if (s.promised() != null && p.ballot().compareTo(s.promised()) < 0
                || s.accepted() != null && Proposal.ORDER.compare(p, s.accepted()) < 0) {
            return new Transition<>(s, new PaxosMessage.Rejected(s.promised()));
        }
        return new Transition<>(new KeyState(p.ballot(), p, s.committed()), new PaxosMessage.Accepted(p.ballot()));
    }

    /**
     * Commit(p): p was chosen; learn it if it is after what is committed here ({@link Proposal#ORDER}). Idempotent, never
     * refused. The promise is raised to p's ballot (a replica may learn a commit it never promised).
     */
    public static KeyState commit(KeyState s, Proposal p) {
        if (!p.isAfter(s.committed())) {
            return s;
        }
        Ballot promised = s.promised() == null || p.ballot().compareTo(s.promised()) > 0 ? p.ballot() : s.promised();
        return new KeyState(promised, s.accepted(), p);
    }
}
