package io.nimbus.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The benchmark's rows and their two renderings: the table it prints and the CSV it writes. */
final class BenchReport {

    /**
     * One store's figures for one row. {@code lost}: compare-and-sets that lost their race (a conflict, not an
     * error); {@code cpuLoad}, {@code cpuStore} and {@code cpuOther}: cores the load generator, the store's three
     * processes and everything else on the machine (the other store's idle processes included) used on average over
     * the cell, warm-up included.
     */
    record Cell(double opsPerSecond, double p50Ms, double p99Ms, double p999Ms, long ops, long lost, long errors,
                double cpuLoad, double cpuStore, double cpuOther) {
    }

    /**
     * {@code loop}: "closed" or "open@N" (open loop at N requests/s, latency from the intended send time);
     * {@code etcd} null when etcd did not run; {@code etcdVia}: "spread" or "leader", the routing its figures came from.
     */
    record Row(String load, int connections, String loop, Cell nimbus, Cell etcd, String etcdVia) {
        /** Nimbus ops/s over etcd ops/s: above 1, Nimbus did more. NaN without etcd. */
        double opsRatio() {
            return etcd == null || etcd.opsPerSecond() == 0 ? Double.NaN : nimbus.opsPerSecond() / etcd.opsPerSecond();
        }

        /** Nimbus p99 over etcd p99: below 1, Nimbus's tail is shorter. NaN without etcd. */
        double p99Ratio() {
            return etcd == null || etcd.p99Ms() == 0 ? Double.NaN : nimbus.p99Ms() / etcd.p99Ms();
        }
    }

    private BenchReport() {
    }

    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        String head = String.format(Locale.ROOT, "%-8s %5s %-10s | %9s %8s %8s %7s | %9s %8s %8s %7s %-6s | %7s %7s%n",
                "load", "conns", "loop", "nimbus/s", "p50 ms", "p99 ms", "lost%", "etcd/s", "p50 ms", "p99 ms", "lost%",
                "via", "ops x", "p99 x");
        sb.append(head);
        sb.append("-".repeat(head.length() - 1)).append('\n');
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-8s %5d %-10s | %s | %s %-6s | %7s %7s%n", r.load(), r.connections(),
                    r.loop(), cell(r.nimbus()), r.etcd() == null ? String.format("%9s %8s %8s %7s", "-", "-", "-", "-")
                            : cell(r.etcd()), r.etcdVia() == null ? "-" : r.etcdVia(), ratio(r.opsRatio()),
                    ratio(r.p99Ratio())));
        }
        return sb.toString();
    }

    private static String cell(Cell c) {
        String lost = c.ops() == 0 ? "-" : String.format(Locale.ROOT, "%.1f", 100.0 * c.lost() / c.ops());
        return String.format(Locale.ROOT, "%9.0f %8.2f %8.2f %7s", c.opsPerSecond(), c.p50Ms(), c.p99Ms(),
                c.errors() > 0 ? lost + "!" + c.errors() : lost);
    }

    static String ratio(double r) {
        return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2f", r);
    }

    static final String CSV_HEADER = "load,connections,loop,store,via,ops_per_s,p50_ms,p99_ms,p999_ms,ops,cas_lost,errors,"
            + "cpu_load_generator_cores,cpu_store_cores,cpu_other_cores,ops_ratio_nimbus_over_etcd,p99_ratio_nimbus_over_etcd";

    static String csv(List<Row> rows) {
        return csv(rows, "spread");
    }

    /** {@code nimbusVia}: where the Nimbus cells sent their requests ({@code bench --nimbus-to}: spread, key or one). */
    static String csv(List<Row> rows, String nimbusVia) {
        List<String> lines = new ArrayList<>();
        lines.add(CSV_HEADER);
        for (Row r : rows) {
            // one hot key has one coordinator: --nimbus-to key sends cas-hot spread
            lines.add(csvLine(r, "nimbus", nimbusVia.equals("key") && r.load().equals("cas-hot") ? "spread" : nimbusVia,
                    r.nimbus()));
            if (r.etcd() != null) {
                lines.add(csvLine(r, "etcd", r.etcdVia(), r.etcd()));
            }
        }
        return String.join("\n", lines) + "\n";
    }

    /** The rows of a CSV {@link #csv} wrote (to draw the chart again without running the loads). */
    static List<Row> parseCsv(List<String> lines) {
        if (lines.isEmpty() || !lines.get(0).equals(CSV_HEADER)) {
            throw new IllegalArgumentException("not a bench CSV: its first line is not " + CSV_HEADER);
        }
        java.util.Map<String, Row> rows = new java.util.LinkedHashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",", -1);
            if (f.length != CSV_HEADER.split(",").length) {
                throw new IllegalArgumentException("bench CSV line with " + f.length + " fields: " + line);
            }
            Cell c = new Cell(Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]),
                    Double.parseDouble(f[8]), Long.parseLong(f[9]), Long.parseLong(f[10]), Long.parseLong(f[11]),
                    Double.parseDouble(f[12]), Double.parseDouble(f[13]), Double.parseDouble(f[14]));
            String id = f[0] + "," + f[1] + "," + f[2];
            Row before = rows.get(id);
            if (f[3].equals("nimbus")) {
                rows.put(id, new Row(f[0], Integer.parseInt(f[1]), f[2], c, before == null ? null : before.etcd(),
                        before == null ? null : before.etcdVia()));
            } else if (f[3].equals("etcd") && before != null) {
                rows.put(id, new Row(f[0], Integer.parseInt(f[1]), f[2], before.nimbus(), c, f[4]));
            } else {
                throw new IllegalArgumentException("bench CSV: an etcd line before its Nimbus line, or an unknown store: "
                        + line);
            }
        }
        return List.copyOf(rows.values());
    }

    private static String csvLine(Row r, String store, String via, Cell c) {
        return String.format(Locale.ROOT, "%s,%d,%s,%s,%s,%.1f,%.3f,%.3f,%.3f,%d,%d,%d,%.2f,%.2f,%.2f,%s,%s", r.load(),
                r.connections(), r.loop(), store, via, c.opsPerSecond(), c.p50Ms(), c.p99Ms(), c.p999Ms(), c.ops(),
                c.lost(), c.errors(), c.cpuLoad(), c.cpuStore(), c.cpuOther(), ratio(r.opsRatio()).replace("-", ""),
                ratio(r.p99Ratio()).replace("-", ""));
    }
}
