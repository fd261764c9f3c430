package io.nimbus.cluster.transport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away certificate authority made with {@code openssl} for tests: a CA certificate and node
 * certificates it signs (EC P-256, valid two days, usable for TLS client and server authentication).
 */
public final class TestPki {
    private final Path dir;
    private final String name;

    private TestPki(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /** A new CA named {@code name} whose files live in {@code dir}. */
    public static TestPki create(Path dir, String name) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        TestPki pki = new TestPki(dir, name);
        Files.writeString(dir.resolve("leaf.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                + "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", pki.caKey().toString(), "-out", pki.caCert().toString(), "-days", "2", "-subj", "/CN=" + name);
        return pki;
    }

    public Path caCert() {
        return dir.resolve(name + "-ca.crt");
    }

    private Path caKey() {
        return dir.resolve(name + "-ca.key");
    }

    /** Issues a certificate for {@code node}; returns its TLS settings (this CA as the trust bundle). */
    public ClusterTls issue(String node) throws IOException, InterruptedException {
        Path key = dir.resolve(node + ".key");
        Path csr = dir.resolve(node + ".csr");
        Path cert = dir.resolve(node + ".crt");
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.toString(),
                "-out", csr.toString(), "-subj", "/CN=" + node);
        openssl("x509", "-req", "-in", csr.toString(), "-CA", caCert().toString(), "-CAkey", caKey().toString(),
                "-CAcreateserial", "-out", cert.toString(), "-days", "2", "-extfile", dir.resolve("leaf.ext").toString());
        return new ClusterTls(cert.toString(), key.toString(), caCert().toString());
    }

    private static void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed:\n" + new String(out, StandardCharsets.UTF_8));
        }
    }
}
