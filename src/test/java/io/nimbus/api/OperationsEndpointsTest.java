package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

/** Health, OpenAPI, Swagger UI and metrics are served and say something true. */
@QuarkusTest
class OperationsEndpointsTest {

    @Test
    void healthReportsTheStore() {
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.name", hasItem("storage"));
        given().get("/q/health/started").then().statusCode(200).body("checks.name", hasItem("storage-open"));
    }

    @Test
    void openApiDescribesEveryOperationWithExamples() {
        String doc = given().queryParam("format", "json").get("/q/openapi").then().statusCode(200).extract().asString();
        for (String s : new String[]{"/v1/kv/{key}", "\"put\"", "\"get\"", "\"delete\"", "/set", "/get",
                "Compare-and-set", "\"412\"", "\"413\"", "\"504\"", "application/problem+json", "\"example\""}) {
            org.junit.jupiter.api.Assertions.assertTrue(doc.contains(s), "OpenAPI lacks " + s);
        }
        given().get("/q/swagger-ui/").then().statusCode(200).body(containsString("swagger"));
    }

    @Test
    void openApiDocumentsTheBearerSchemeAndEachOperationsRole() {
        io.restassured.path.json.JsonPath doc = given().queryParam("format", "json").get("/q/openapi")
                .then().statusCode(200).extract().jsonPath();
        org.junit.jupiter.api.Assertions.assertEquals("bearer", doc.getString("components.securitySchemes.bearer.scheme"));
        org.junit.jupiter.api.Assertions.assertEquals("http", doc.getString("components.securitySchemes.bearer.type"));
        String put = "paths.'/v1/kv/{key}'.put";
        org.junit.jupiter.api.Assertions.assertTrue(doc.getString(put + ".description").contains("Needs role `write`"));
        org.junit.jupiter.api.Assertions.assertTrue(doc.getString("paths.'/v1/kv/{key}'.get.description")
                .contains("Needs role `read`"));
        org.junit.jupiter.api.Assertions.assertTrue(doc.getString("paths.'/set'.get.description")
                .contains("Needs role `write`"));
        org.junit.jupiter.api.Assertions.assertNotNull(doc.get(put + ".responses.'401'"));
        org.junit.jupiter.api.Assertions.assertNotNull(doc.get(put + ".responses.'403'.content.'application/problem+json'"));
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), doc.getList(put + ".security[0].bearer"));
    }

    @Test
    void metricsCountRequestsAndCommits() {
        given().body("m").put("/v1/kv/metrics-key").then().statusCode(204);
        given().get("/v1/kv/metrics-key").then().statusCode(200);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        org.junit.jupiter.api.Assertions.assertTrue(metrics.contains("http_server_requests_seconds_count{method=\"PUT\""),
                "request counts by method");
        org.junit.jupiter.api.Assertions.assertTrue(metrics.matches("(?s).*nimbus_store_group_commits_total [1-9].*"),
                "group commits counted");
        // histograms (buckets), so that Prometheus can compute a p99: each needs a bucket of at most 1 ms and a
        // count that saw this test's requests (this node is alone: its requests run no Paxos, so its phase
        // histograms are only registered; ProxyRoutingIT sees them count)
        assertHistogram(metrics, "nimbus_paxos_phase_duration_seconds{answered=\"true\",phase=\"propose\"", false);
        for (String histogram : new String[]{"http_server_requests_seconds{method=\"PUT\"",
                "nimbus_store_group_commit_duration_seconds{"}) {
            assertHistogram(metrics, histogram, true);
        }
    }

    /** {@code histogram} is "name{labels it must carry": at least 10 buckets, one at or below 1 ms, counted if asked. */
    private static void assertHistogram(String metrics, String histogram, boolean counted) {
        int brace = histogram.indexOf('{');
        String name = histogram.substring(0, brace);
        String labels = histogram.substring(brace + 1);
        java.util.List<String> buckets = metrics.lines()
                .filter(l -> l.startsWith(name + "_bucket{") && l.contains(labels.isEmpty() ? "{" : labels)).toList();
        org.junit.jupiter.api.Assertions.assertTrue(buckets.size() >= 10, histogram + " has " + buckets.size()
                + " buckets:\n" + metrics.lines().filter(l -> l.startsWith(name)).limit(20).toList());
        org.junit.jupiter.api.Assertions.assertTrue(buckets.stream().anyMatch(l -> l.contains("le=\"0.001\"")
                        || l.matches(".*le=\"(0\\.000[0-9]+|[0-9.]+E-[4-9])\".*")),
                histogram + " has no bucket at or below 1 ms");
        org.junit.jupiter.api.Assertions.assertTrue(!counted || buckets.stream().anyMatch(l -> l.contains("le=\"+Inf\"")
                && !l.trim().endsWith(" 0.0")), histogram + " counted nothing");
    }
}
