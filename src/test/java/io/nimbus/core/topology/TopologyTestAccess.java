package io.nimbus.core.topology;

/** Sample topologies for tests in other packages. */
public final class TopologyTestAccess {
    private TopologyTestAccess() {
    }

    /** {@code n} workers grown by joins from one, under {@code rf}. */
    public static Topology grown(int n, int rf) {
        return TopologyTest.grown(n, rf);
    }
}
