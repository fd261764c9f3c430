package io.nimbus.api.auth;

import io.nimbus.config.NimbusConfig;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether client authentication is on, and the tokens it accepts. Built at start-up so that a node
 * told to authenticate clients never serves without its tokens: a missing, unreadable or malformed
 * tokens file stops start-up with a message naming the setting.
 */
@Startup
@ApplicationScoped
public class ClientAuth {
    private static final Logger LOG = Logger.getLogger(ClientAuth.class);

    private final boolean enabled;
    private final ApiTokens tokens;

    public ClientAuth(NimbusConfig config) {
        NimbusConfig.Api.Auth auth = config.api().auth();
        this.enabled = auth.enabled();
        this.tokens = enabled ? load(auth.tokensFile()) : ApiTokens.none();
        if (enabled) {
            LOG.infof("client API authentication is on: %d token(s) from %s", tokens.size(), auth.tokensFile().get());
        } else {
            LOG.info("client API authentication is off (nimbus.api.auth.enabled=false): anyone who reaches the "
                    + "HTTP port may read, write and administer; turn it on outside development");
        }
    }

    public boolean enabled() {
        return enabled;
    }

    public ApiTokens tokens() {
        return tokens;
    }

    static ApiTokens load(Optional<String> file) {
        if (file.isEmpty() || file.get().isBlank()) {
            throw new IllegalStateException("nimbus.api.auth.enabled=true needs nimbus.api.auth.tokens-file: a file of "
                    + "'<sha-256 of the token> <role>[,<role>] [name]' lines (see README, Security)");
        }
        Path path = Path.of(file.get());
        ApiTokens tokens;
        try {
            tokens = ApiTokens.parse(Files.readAllLines(path, StandardCharsets.UTF_8), path.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read nimbus.api.auth.tokens-file " + path.toAbsolutePath(), e);
        }
        if (tokens.size() == 0) {
            throw new IllegalStateException("nimbus.api.auth.tokens-file " + path.toAbsolutePath() + " lists no token, "
                    + "so no client could use this node; add a line per token or turn nimbus.api.auth.enabled off");
        }
        return tokens;
    }
}
