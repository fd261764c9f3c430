package io.nimbus.cluster;

import io.nimbus.core.kv.KeyState;
import io.nimbus.core.paxos.Acceptor;
import io.nimbus.core.paxos.PaxosMessage;
import io.nimbus.node.Storage;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.concurrent.CompletableFuture;

/**
 * The acceptor side of Paxos on a worker: each request becomes a durable per-key update in the store,
 * and the reply is released only after the new registers are on disk.
 */
@ApplicationScoped
public class ReplicaService {
    private final Storage storage;

    public ReplicaService(Storage storage) {
        this.storage = storage;
    }

    public CompletableFuture<PaxosMessage> handle(PaxosMessage.Request request) {
        if (!storage.isWorker()) {
            return CompletableFuture.failedFuture(new IllegalStateException("this node is a proxy: it holds no replicas"));
        }
        if (request instanceof PaxosMessage.Prepare p) {
            return storage.store().update(p.key(), (current, fresh) -> widen(Acceptor.prepare(current, p.ballot())));
        }
        if (request instanceof PaxosMessage.Propose p) {
            return storage.store().update(p.key(), (current, fresh) -> widen(Acceptor.accept(current, p.proposal())));
        }
        if (request instanceof PaxosMessage.Commit c) {
            return storage.store().update(c.key(), (current, fresh) ->
                    new Acceptor.Transition<>(Acceptor.commit(current, c.proposal()), new PaxosMessage.Committed()));
        }
        KeyState state = storage.store().read(request.key());
        return CompletableFuture.completedFuture(new PaxosMessage.State(state));
    }

    private static <R extends PaxosMessage> Acceptor.Transition<PaxosMessage> widen(Acceptor.Transition<R> t) {
        return new Acceptor.Transition<>(t.next(), t.reply());
    }
}
