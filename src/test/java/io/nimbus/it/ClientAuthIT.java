package io.nimbus.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged node with client authentication on, as k8s/ runs it: probes answer without a token,
 * the client API only with one, and a node told to authenticate without a usable tokens file does not start.
 */
class ClientAuthIT {
    private static final Duration FAIL_FAST = Duration.ofSeconds(60);
    private static final String WRITER = "it-writer-token";

    private final List<NodeProcess> nodes = new ArrayList<>();

    @AfterEach
    void killNodes() {
        NodeProcess.closeAll(nodes);
    }

    private static String sha256(String token) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(token.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aNodeWithTokensAnswersProbesOpenlyAndKeysOnlyWithAToken() throws Exception {
        Path dir = NodeProcess.newDataDir("client-auth");
        Path tokens = Files.writeString(dir.resolveSibling(dir.getFileName() + ".tokens"),
                "# it\n" + sha256(WRITER) + "  write  it-client\n");
        // startReady polls /q/health/ready without a token: the probe stays open
        NodeProcess node = NodeProcess.startReady("client-auth", dir, "nimbus.api.auth.enabled=true",
                "nimbus.api.auth.tokens-file=" + tokens.toAbsolutePath());
        nodes.add(node);
        byte[] value = "v".getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> anonymous = node.put("k", value);
        assertEquals(401, anonymous.statusCode(), anonymous.body());
        assertEquals("Bearer realm=\"nimbus\"", anonymous.headers().firstValue("WWW-Authenticate").orElse(null));
        assertTrue(anonymous.body().contains("urn:nimbus:problem:unauthorized"), anonymous.body());

        node.useToken(WRITER);
        assertEquals(204, node.put("k", value).statusCode());
        assertArrayEquals(value, node.get("k").body());
        HttpClient http = KvClient.newClient();
        assertEquals(200, KvClient.get(http, node, "k", "QUORUM", Duration.ofSeconds(10)).statusCode());
        assertTrue(ClusterView.of(node).joined(), "a write token also reads cluster information");
        assertTrue(node.output().contains("client API authentication is on: 1 token(s)"), node.tail(20));
        assertTrue(!node.output().contains(WRITER), "the token never reaches the log");
    }

    @Test
    void authenticationOnWithoutATokensFileStopsStartUpWithAMessage() throws Exception {
        NodeProcess node = NodeProcess.start("client-auth-no-file", NodeProcess.newDataDir("client-auth-no-file"),
                "nimbus.api.auth.enabled=true");
        nodes.add(node);
        int exit = node.runToExit(FAIL_FAST);
        assertNotEquals(0, exit);
        assertTrue(node.output().contains("nimbus.api.auth.enabled=true needs nimbus.api.auth.tokens-file"),
                node.tail(40));
    }
}
