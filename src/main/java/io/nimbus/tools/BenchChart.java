package io.nimbus.tools;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** The benchmark's rows as a PNG: ops/s above, p99 below, a Nimbus bar and an etcd bar per row (headless AWT). */
final class BenchChart {
    static final Color NIMBUS = new Color(0x2b6cb0);
    static final Color ETCD = new Color(0xdd6b20);
    private static final int WIDTH = 1600;
    private static final int PANEL = 360;
    private static final int LEFT = 80;
    private static final int TOP = 60;

    private BenchChart() {
    }

    static void write(List<BenchReport.Row> rows, String title, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(WIDTH, TOP + 2 * PANEL + 180, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
            g.drawString(title, LEFT, 28);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            legend(g, LEFT, 48);
            panel(g, rows, "ops/s (higher is better); below: Nimbus / etcd ops/s", TOP + 10, c -> c.opsPerSecond(),
                    false);
            panel(g, rows, "p99 ms, log scale (lower is better); below: Nimbus / etcd p99", TOP + PANEL + 80,
                    c -> c.p99Ms(), true);
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(img, "png", png.toFile())) {
            throw new IOException("no PNG writer in this JVM for " + png);
        }
    }

    private static void legend(Graphics2D g, int x, int y) {
        g.setColor(NIMBUS);
        g.fillRect(x, y - 11, 14, 12);
        g.setColor(Color.BLACK);
        g.drawString("Nimbus (3 workers, RF 3, QUORUM)", x + 20, y);
        g.setColor(ETCD);
        g.fillRect(x + 300, y - 11, 14, 12);
        g.setColor(Color.BLACK);
        g.drawString("etcd (3 members)", x + 320, y);
        g.drawString("open@N: open loop at N req/s, latency from the intended send time", x + 480, y);
    }

    /** {@code log}: a log10 scale (p99s span 1 ms to seconds), with the p99 ratio under each row; else linear, ops ratio. */
    private static void panel(Graphics2D g, List<BenchReport.Row> rows, String label, int top,
                              ToDoubleFunction<BenchReport.Cell> metric, boolean log) {
        int bottom = top + PANEL - 40;
        int plotWidth = WIDTH - LEFT - 20;
        double max = 0;
        for (BenchReport.Row r : rows) {
            max = Math.max(max, metric.applyAsDouble(r.nimbus()));
            if (r.etcd() != null) {
                max = Math.max(max, metric.applyAsDouble(r.etcd()));
            }
        }
        double scaleMax = log ? Math.pow(10, Math.ceil(Math.log10(Math.max(max, 10)))) : niceCeiling(max);
        double scaleMin = log ? 0.1 : 0;
        ToDoubleFunction<Double> fraction = v -> log
                ? (Math.log10(Math.max(v, scaleMin)) - Math.log10(scaleMin)) / (Math.log10(scaleMax) - Math.log10(scaleMin))
                : v / scaleMax;
        g.setColor(Color.BLACK);
        g.drawString(label, LEFT, top + 4);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        int ticks = log ? (int) Math.round(Math.log10(scaleMax / scaleMin)) : 4;
        for (int i = 0; i <= ticks; i++) {
            int y = bottom - (int) Math.round((bottom - top - 20) * i / (double) ticks);
            g.setColor(new Color(0xdddddd));
            g.drawLine(LEFT, y, LEFT + plotWidth, y);
            g.setColor(Color.DARK_GRAY);
            String tick = format(log ? scaleMin * Math.pow(10, i) : scaleMax * i / ticks);
            g.drawString(tick, LEFT - 8 - g.getFontMetrics().stringWidth(tick), y + 4);
        }
        int group = rows.isEmpty() ? plotWidth : plotWidth / rows.size();
        int bar = Math.max(4, (group - 10) / 2);
        for (int i = 0; i < rows.size(); i++) {
            BenchReport.Row r = rows.get(i);
            int x = LEFT + i * group + 5;
            bar(g, x, bar, bottom, top + 20, fraction.applyAsDouble(metric.applyAsDouble(r.nimbus())), NIMBUS);
            if (r.etcd() != null) {
                bar(g, x + bar, bar, bottom, top + 20, fraction.applyAsDouble(metric.applyAsDouble(r.etcd())), ETCD);
            }
            g.setColor(Color.BLACK);
            center(g, r.load(), x + bar, bottom + 15);
            center(g, r.connections() + " conn", x + bar, bottom + 29);
            boolean open = !r.loop().equals("closed");
            if (open) {
                center(g, r.loop(), x + bar, bottom + 43);
            }
            String ratio = BenchReport.ratio(log ? r.p99Ratio() : r.opsRatio());
            if (!ratio.equals("-") && (log || !open)) { // open loop: both stores were offered the same rate
                center(g, ratio + "x", x + bar, bottom + (open ? 57 : 43));
            }
        }
        g.setStroke(new BasicStroke(1));
        g.setColor(Color.BLACK);
        g.drawLine(LEFT, bottom, LEFT + plotWidth, bottom);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    }

    private static void bar(Graphics2D g, int x, int width, int bottom, int top, double fraction, Color color) {
        int h = (int) Math.round((bottom - top) * Math.max(0, Math.min(1, fraction)));
        g.setColor(color);
        g.fillRect(x, bottom - h, width - 1, h);
    }

    private static void center(Graphics2D g, String s, int x, int y) {
        g.drawString(s, x - g.getFontMetrics().stringWidth(s) / 2, y);
    }

    static double niceCeiling(double v) {
        if (v <= 0 || Double.isNaN(v)) {
            return 1;
        }
        double magnitude = Math.pow(10, Math.floor(Math.log10(v)));
        for (double step : new double[]{1, 2, 2.5, 5, 10}) {
            if (step * magnitude >= v) {
                return step * magnitude;
            }
        }
        return 10 * magnitude;
    }

    private static String format(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : v >= 1 || v == 0
                ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.2f", v);
    }
}
