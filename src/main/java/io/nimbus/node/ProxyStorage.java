package io.nimbus.node;

import io.nimbus.storage.MapDbStore;
import io.quarkus.arc.properties.IfBuildProperty;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * A proxy build's storage: none. It never touches {@link MapDbStore} (whose MapDB classes a proxy build
 * leaves out), so nothing on a proxy loads it.
 */
@ApplicationScoped
@IfBuildProperty(name = BuildRole.PROPERTY, stringValue = "proxy")
public class ProxyStorage implements Storage {

    @Override
    public boolean isWorker() {
        return false;
    }

    @Override
    public boolean isOpen() {
        return false;
    }

    @Override
    public MapDbStore store() {
        throw new IllegalStateException("a proxy has no store");
    }
}
