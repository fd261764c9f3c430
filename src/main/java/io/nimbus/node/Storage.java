package io.nimbus.node;

import io.nimbus.storage.MapDbStore;

/**
 * This node's store, as the rest of the node sees it. A worker's is {@link WorkerStorage} (MapDB); a proxy
 * build ({@link BuildRole#PROXY}) has only {@link ProxyStorage}, which opens nothing and does not carry
 * MapDB on its class path: every use of {@link #store()} is behind {@link #isWorker()}.
 */
public interface Storage {

    /** Whether this node stores data (a worker); a proxy never does. */
    boolean isWorker();

    /** Whether the store is open (start-up opened it; always false on a proxy). */
    boolean isOpen();

    /** The open store; throws if start-up has not opened it, or this node is a proxy. */
    MapDbStore store();
}
