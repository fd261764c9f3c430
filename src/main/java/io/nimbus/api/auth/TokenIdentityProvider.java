package io.nimbus.api.auth;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.Optional;

/** Turns a presented bearer token into an identity holding the roles its tokens-file line grants. */
@ApplicationScoped
public class TokenIdentityProvider implements IdentityProvider<TokenAuthenticationRequest> {
    private final ClientAuth auth;

    public TokenIdentityProvider(ClientAuth auth) {
        this.auth = auth;
    }

    @Override
    public Class<TokenAuthenticationRequest> getRequestType() {
        return TokenAuthenticationRequest.class;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(TokenAuthenticationRequest request, AuthenticationRequestContext context) {
        // one SHA-256 and a short scan: cheap enough for the event loop
        Optional<ApiTokens.Entry> entry = auth.tokens().lookup(request.getToken().getToken());
        if (entry.isEmpty()) {
            return Uni.createFrom().failure(new AuthenticationFailedException("unknown bearer token"));
        }
        QuarkusSecurityIdentity.Builder b = QuarkusSecurityIdentity.builder()
                .setPrincipal(new QuarkusPrincipal(entry.get().name()))
                .addCredential(request.getToken());
        entry.get().roles().forEach(r -> b.addRole(r.roleName()));
        return Uni.createFrom().item(b.build());
    }
}
