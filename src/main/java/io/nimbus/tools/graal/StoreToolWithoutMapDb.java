package io.nimbus.tools.graal;

import com.oracle.svm.core.annotate.Substitute;
import com.oracle.svm.core.annotate.TargetClass;

import java.io.PrintStream;
import java.util.function.BooleanSupplier;

/**
 * In a native image built without MapDB (a proxy build), {@code store ...} says so instead of reaching
 * {@code MapDbStore.open}, whose MapDB classes the image does not have (native-image links at build time,
 * so a reachable call into a missing class fails the build). Never loaded on the JVM, where
 * {@link io.nimbus.NimbusMain} checks for MapDB before it calls the store tool.
 */
@TargetClass(className = "io.nimbus.tools.StoreTool", onlyWith = StoreToolWithoutMapDb.MapDbAbsent.class)
final class StoreToolWithoutMapDb {

    @Substitute
    public static int run(String[] args, PrintStream out, PrintStream err) {
        err.println(io.nimbus.NimbusMain.NO_STORE_TOOL);
        return 2;
    }

    /** True at image build time when MapDB is not on the image's class path. */
    static final class MapDbAbsent implements BooleanSupplier {
        @Override
        public boolean getAsBoolean() {
            try {
                Class.forName("org.mapdb.DB", false, StoreToolWithoutMapDb.class.getClassLoader());
                return false;
            } catch (ClassNotFoundException e) {
                return true;
            }
        }
    }
}
