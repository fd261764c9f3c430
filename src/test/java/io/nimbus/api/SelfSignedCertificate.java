package io.nimbus.api;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Makes a self-signed certificate for localhost with the JDK's keytool, writes it and its key as PEM
 * (what an operator hands to {@code quarkus.http.ssl.certificate.files} / {@code key-files}), and points
 * the node's HTTPS port at them, with plain HTTP disabled on a port known to the test.
 */
public class SelfSignedCertificate implements QuarkusTestResourceLifecycleManager {
    static final Path DIR = Path.of("target", "tls-test");
    static final Path CERT = DIR.resolve("node.crt");
    static final Path KEY = DIR.resolve("node.key");
    static final Path PLAIN_PORT = DIR.resolve("plain-port");
    private static final char[] PASSWORD = "test-only".toCharArray();

    @Override
    public Map<String, String> start() {
        try {
            Files.createDirectories(DIR);
            Path p12 = DIR.resolve("node.p12");
            Files.deleteIfExists(p12);
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname",
                    "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                    "-storetype", "PKCS12", "-keystore", p12.toString(), "-storepass", new String(PASSWORD))
                    .redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("keytool failed: " + output);
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(p12)) {
                ks.load(in, PASSWORD);
            }
            Certificate cert = ks.getCertificate("node");
            PrivateKey key = (PrivateKey) ks.getKey("node", PASSWORD);
            Files.writeString(CERT, pem("CERTIFICATE", cert.getEncoded()));
            Files.writeString(KEY, pem("PRIVATE KEY", key.getEncoded()));
            int plainPort;
            try (ServerSocket s = new ServerSocket(0)) {
                plainPort = s.getLocalPort();
            }
            Files.writeString(PLAIN_PORT, Integer.toString(plainPort));
            return Map.of("quarkus.http.ssl.certificate.files", CERT.toString(),
                    "quarkus.http.ssl.certificate.key-files", KEY.toString(),
                    "quarkus.http.test-ssl-port", "0",
                    "quarkus.http.test-port", Integer.toString(plainPort),
                    "quarkus.http.insecure-requests", "disabled");
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("making a test certificate", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted making a test certificate", e);
        }
    }

    private static String pem(String type, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
    }

    /** TLS that trusts exactly the test certificate (host names are still checked against it). */
    public static javax.net.ssl.SSLContext trustingContext() throws GeneralSecurityException, IOException {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(CERT)) {
            trust.setCertificateEntry("node",
                    java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        return tls;
    }

    @Override
    public void stop() {
        // the files stay under target/ for a look after a failure
    }
}
