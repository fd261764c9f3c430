package io.nimbus.it;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Small HTTP probes of a running node: readiness and Prometheus counters. */
final class NodeProbe {
    private NodeProbe() {
    }

    /** Status of {@code GET /q/health/ready}, or -1 if the node does not answer (not listening yet). */
    static int readyStatus(NodeProcess node) throws InterruptedException {
        try {
            return node.http().send(HttpRequest.newBuilder(node.uri("/q/health/ready"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        }
    }

    /** The value of one un-labelled sample (e.g. {@code nimbus_gossip_bytes_sent_total}) in {@code /q/metrics}. */
    static double metric(NodeProcess node, String sample) throws IOException, InterruptedException {
        HttpResponse<String> r = node.http().send(HttpRequest.newBuilder(node.uri("/q/metrics"))
                .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException(node + " GET /q/metrics -> " + r.statusCode());
        }
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(r.body());
        if (!m.find()) {
            throw new AssertionError(node + " /q/metrics has no sample " + sample);
        }
        return Double.parseDouble(m.group(1));
    }

    /** How many times {@code text} occurs in the node's output so far. */
    static int countInLog(NodeProcess node, String text) {
        String out = node.output();
        int n = 0;
        for (int i = out.indexOf(text); i >= 0; i = out.indexOf(text, i + text.length())) {
            n++;
        }
        return n;
    }
}
