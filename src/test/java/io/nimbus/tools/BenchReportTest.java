package io.nimbus.tools;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's table, ratios and CSV, and its options. */
class BenchReportTest {
    private static final BenchReport.Cell NIMBUS = new BenchReport.Cell(3000, 4.0, 12.0, 20.0, 18000, 0, 0, 0.3, 1.4, 0.1);
    private static final BenchReport.Cell ETCD = new BenchReport.Cell(4000, 3.0, 8.0, 15.0, 24000, 0, 0, 0.3, 1.2, 0.1);

    @Test
    void ratiosAreNimbusOverEtcd() {
        BenchReport.Row r = new BenchReport.Row("put", 16, "closed", NIMBUS, ETCD, "leader");
        assertEquals(0.75, r.opsRatio(), 1e-9);
        assertEquals(1.5, r.p99Ratio(), 1e-9);
        BenchReport.Row alone = new BenchReport.Row("put", 16, "closed", NIMBUS, null, null);
        assertTrue(Double.isNaN(alone.opsRatio()) && Double.isNaN(alone.p99Ratio()));
    }

    @Test
    void theTableHasOneLinePerRowWithBothStoresAndTheRatios() {
        BenchReport.Cell hot = new BenchReport.Cell(500, 10, 40, 60, 3000, 1500, 2, 0.1, 1.8, 0.0);
        String t = BenchReport.table(List.of(new BenchReport.Row("put", 16, "closed", NIMBUS, ETCD, "leader"),
                new BenchReport.Row("cas-hot", 1, "open@250", hot, null, null)));
        String[] lines = t.split("\n");
        assertEquals(4, lines.length, t);
        assertTrue(lines[0].startsWith("load") && lines[0].contains("ops x") && lines[0].contains("p99 x"), t);
        assertTrue(lines[2].matches("put\\s+16 closed\\s+\\|\\s+3000\\s+4\\.00\\s+12\\.00\\s+0\\.0 \\|\\s+4000\\s+3\\.00"
                + "\\s+8\\.00\\s+0\\.0 leader \\|\\s+0\\.75\\s+1\\.50"), lines[2]);
        assertTrue(lines[3].contains("50.0!2"), "half the CAS lost, 2 errors: " + lines[3]);
        assertTrue(lines[3].matches(".*\\|\\s+-\\s+-\\s+-\\s+-\\s+-\\s+\\|\\s+-\\s+-"), "no etcd: dashes: " + lines[3]);
    }

    @Test
    void theCsvHasALinePerStoreAndRow() {
        String csv = BenchReport.csv(List.of(new BenchReport.Row("get", 64, "closed", NIMBUS, ETCD, "spread"),
                new BenchReport.Row("get", 1, "closed", NIMBUS, null, null)));
        String[] lines = csv.split("\n");
        assertEquals(BenchReport.CSV_HEADER, lines[0]);
        assertEquals(4, lines.length, csv);
        assertEquals("get,64,closed,nimbus,spread,3000.0,4.000,12.000,20.000,18000,0,0,0.30,1.40,0.10,0.75,1.50", lines[1]);
        assertEquals("get,64,closed,etcd,spread,4000.0,3.000,8.000,15.000,24000,0,0,0.30,1.20,0.10,0.75,1.50", lines[2]);
        assertEquals("get,1,closed,nimbus,spread,3000.0,4.000,12.000,20.000,18000,0,0,0.30,1.40,0.10,,", lines[3]);
        for (String line : lines) {
            assertEquals(BenchReport.CSV_HEADER.split(",").length, line.split(",", -1).length, line);
        }
        String keyed = BenchReport.csv(List.of(new BenchReport.Row("put", 16, "closed", NIMBUS, ETCD, "leader"),
                new BenchReport.Row("cas-hot", 16, "closed", NIMBUS, ETCD, "leader")), "key");
        assertTrue(keyed.contains("\nput,16,closed,nimbus,key,") && keyed.contains("\ncas-hot,16,closed,nimbus,spread,"),
                "cas-hot's one key goes spread under --nimbus-to key: " + keyed);
        String pinned = BenchReport.csv(List.of(new BenchReport.Row("put", 16, "closed", NIMBUS, ETCD, "leader")), "one");
        assertTrue(pinned.contains("\nput,16,closed,nimbus,one,") && pinned.contains("\nput,16,closed,etcd,leader,"),
                "the Nimbus line says where its requests went (bench --nimbus-to one): " + pinned);
    }

    @Test
    void theCsvReadsBackIntoTheSameRows() {
        List<BenchReport.Row> rows = List.of(new BenchReport.Row("get", 64, "closed", NIMBUS, ETCD, "spread"),
                new BenchReport.Row("cas-hot", 16, "open@398", NIMBUS, null, null));
        assertEquals(rows, BenchReport.parseCsv(List.of(BenchReport.csv(rows).split("\n"))));
        assertThrows(IllegalArgumentException.class, () -> BenchReport.parseCsv(List.of("load,conns")));
    }

    @Test
    void optionsHaveDefaultsAndBadOnesAreRefused() {
        BenchTool.Options o = BenchTool.parse(new String[]{"--no-etcd", "--worker-opt", "-Da={node}"});
        assertEquals(6, o.seconds());
        assertEquals(List.of(1, 16, 64), o.connections());
        assertEquals(List.of(BenchTool.Load.PUT, BenchTool.Load.GET, BenchTool.Load.MIXED, BenchTool.Load.CAS,
                BenchTool.Load.CAS_HOT), o.loads());
        assertTrue(o.noEtcd());
        assertEquals(List.of("-Da={node}"), o.workerOptions());
        assertThrows(IllegalArgumentException.class, () -> BenchTool.parse(new String[]{"--loads", "scan"}));
        assertThrows(IllegalArgumentException.class, () -> BenchTool.parse(new String[]{"--connections", "0"}));
        assertEquals("key", o.nimbusTo(), "a token-aware client by default");
        assertEquals("one", BenchTool.parse(new String[]{"--nimbus-to", "one"}).nimbusTo());
        assertEquals("spread", BenchTool.parse(new String[]{"--nimbus-to", "spread"}).nimbusTo());
        assertThrows(IllegalArgumentException.class, () -> BenchTool.parse(new String[]{"--etcd-to", "nearest"}));
        assertThrows(IllegalArgumentException.class, () -> BenchTool.parse(new String[]{"--nimbus-to", "leader"}));
        assertThrows(IllegalArgumentException.class, () -> BenchTool.parse(new String[]{"--nope", "1"}));
    }

    @Test
    void chartScalesRoundUp() {
        assertEquals(20_000, BenchChart.niceCeiling(16_634), 1e-9);
        assertEquals(2.5, BenchChart.niceCeiling(2.1), 1e-9);
        assertEquals(1, BenchChart.niceCeiling(0), 1e-9);
    }
}
