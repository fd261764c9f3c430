package io.nimbus.api;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The public port over TLS with a PEM certificate and key (README "Security"), plain HTTP turned off,
 * and client authentication on: the setup a deployment uses.
 */
@QuarkusTest
@TestProfile(TlsTest.TlsAndAuth.class)
public class TlsTest {

    public static class TlsAndAuth implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("nimbus.data-dir", "target/test-data/tls-" + System.nanoTime(),
                    "nimbus.api.auth.enabled", "true",
                    "nimbus.api.auth.tokens-file", "src/test/resources/auth/tokens");
        }

        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(SelfSignedCertificate.class));
        }
    }

    public static URI https(String path) {
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
        return URI.create("https://localhost:" + port + path);
    }

    private static HttpClient trusting() throws Exception {
        return HttpClient.newBuilder().sslContext(SelfSignedCertificate.trustingContext())
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Test
    void keysAreWrittenAndReadOverHttpsWithABearerToken() throws Exception {
        HttpClient http = trusting();
        URI key = https("/v1/kv/tls-" + UUID.randomUUID());
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(key)
                .header("Authorization", "Bearer " + ClientAuthTest.WRITER)
                .PUT(HttpRequest.BodyPublishers.ofString("secret")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(204, put.statusCode(), put.body());
        HttpResponse<String> get = http.send(HttpRequest.newBuilder(key)
                .header("Authorization", "Bearer " + ClientAuthTest.READER).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, get.statusCode());
        assertEquals("secret", get.body());
        HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(key).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode());
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(https("/q/health/ready")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode());
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateIsRefusedTheHandshake() {
        HttpClient defaults = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        IOException e = assertThrows(IOException.class, () -> defaults.send(
                HttpRequest.newBuilder(https("/q/health/live")).GET().build(), HttpResponse.BodyHandlers.ofString()));
        assertTrue(e instanceof SSLHandshakeException || e.getCause() instanceof SSLHandshakeException, e.toString());
    }

    @Test
    void plainHttpIsNotServedWhenInsecureRequestsAreDisabled() throws Exception {
        int plain = Integer.parseInt(Files.readString(SelfSignedCertificate.PLAIN_PORT).trim());
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        assertThrows(ConnectException.class, () -> http.send(HttpRequest.newBuilder(
                URI.create("http://localhost:" + plain + "/q/health/live")).GET().build(),
                HttpResponse.BodyHandlers.ofString()));
    }
}
