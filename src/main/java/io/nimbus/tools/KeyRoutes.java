package io.nimbus.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nimbus.core.ring.Murmur3;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A token-aware client's view of the keyspace ({@code load --route key}): which of the given nodes each key's
 * writes should go to, so that the node that receives a QUORUM write is the one that coordinates it and no
 * forward is needed (docs/PAXOS.md, "One coordinator per key"). Read once, before the load, from the ring a node
 * serves ({@code GET /v1/cluster/ring}) and each URL's own name ({@code GET /v1/cluster}): a key goes to the
 * first replica of its range, as long as no worker is pending, leaving or down (then nodes forward as they
 * always do). Cassandra's drivers route the same way (token-aware policy).
 */
final class KeyRoutes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private KeyRoutes() {
    }

    /**
     * For each of {@code urls}, the key numbers (of {@code prefix + n}, {@code n < keys}) whose first replica is
     * that URL's node; an empty array for a URL that is no key's first replica (a proxy). The key is hashed as
     * written: {@code prefix} must need no percent-decoding on the node (LoadTool refuses one with '%' or '/').
     */
    static int[][] byUrl(List<URI> urls, String prefix, int keys, String token) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<String> names = new ArrayList<>();
        for (URI u : urls) {
            names.add(get(http, u, "/v1/cluster", token).path("self").asText());
        }
        return assign(firstReplicaByRangeEnd(get(http, urls.get(0), "/v1/cluster/ring", token)), names, prefix, keys);
    }

    /** The ring's ranges (start exclusive, end inclusive) by end token, each with its first replica. */
    static TreeMap<Long, String> firstReplicaByRangeEnd(JsonNode ring) {
        TreeMap<Long, String> byEnd = new TreeMap<>();
        for (JsonNode r : ring.path("ranges")) {
            JsonNode replicas = r.path("replicas");
            if (replicas.isEmpty()) {
                throw new IllegalStateException("the ring has a range with no replica: " + r);
            }
            byEnd.put(Long.parseLong(r.path("end").asText()), replicas.get(0).asText());
        }
        if (byEnd.isEmpty()) {
            throw new IllegalStateException("the ring has no ranges: " + ring);
        }
        return byEnd;
    }

    /** Splits the keyspace by the node of {@code names} that is each key's first replica. */
    static int[][] assign(TreeMap<Long, String> byEnd, List<String> names, String prefix, int keys) {
        List<List<Integer>> owned = new ArrayList<>();
        names.forEach(n -> owned.add(new ArrayList<>()));
        for (int k = 0; k < keys; k++) {
            String first = firstReplica(byEnd, Murmur3.hash64((prefix + k).getBytes(StandardCharsets.UTF_8)));
            for (int at = 0; at < names.size(); at++) {
                if (names.get(at).equals(first)) { // every URL of that node (it may be listed twice)
                    owned.get(at).add(k);
                }
            }
        }
        int[][] out = new int[names.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = owned.get(i).stream().mapToInt(Integer::intValue).toArray();
        }
        return out;
    }

    /** The first replica of the range holding {@code token}: the first range ending at or after it, else (wrapping) the first. */
    static String firstReplica(TreeMap<Long, String> byEnd, long token) {
        Map.Entry<Long, String> range = byEnd.ceilingEntry(token);
        return (range != null ? range : byEnd.firstEntry()).getValue();
    }

    private static JsonNode get(HttpClient http, URI base, String path, String token) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET();
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + base + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body());
    }
}
