package io.nimbus.tools;

import io.nimbus.api.ClientAuthTest;
import io.nimbus.api.SelfSignedCertificate;
import io.nimbus.api.TlsTest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The load tool's connection speaks HTTPS to a node with a certificate, and checks that certificate. */
@QuarkusTest
@TestProfile(TlsTest.TlsAndAuth.class)
class HttpConnectionTlsTest {

    @Test
    void putsAndGetsOverHttpsWithAToken() throws Exception {
        SSLSocketFactory trusting = SelfSignedCertificate.trustingContext().getSocketFactory();
        try (HttpConnection c = new HttpConnection(TlsTest.https("/"), 10_000, trusting)) {
            String[] auth = {"Authorization", "Bearer " + ClientAuthTest.WRITER};
            assertEquals(204, c.exchange("PUT", "/v1/kv/tls-tool", auth, "v".getBytes(StandardCharsets.UTF_8)).status());
            HttpConnection.Response r = c.exchange("GET", "/v1/kv/tls-tool", auth, null);
            assertEquals(200, r.status());
            assertEquals("v", new String(r.body(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void aCertificateTheJvmDoesNotTrustIsRefused() {
        try (HttpConnection c = new HttpConnection(TlsTest.https("/"), 10_000)) {
            assertThrows(SSLException.class, () -> c.exchange("GET", "/q/health/live", new String[0], null));
        }
    }
}
