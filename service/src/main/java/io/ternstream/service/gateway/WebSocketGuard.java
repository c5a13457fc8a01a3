package io.ternstream.service.gateway;

import io.quarkus.websockets.next.HttpUpgradeCheck;
import io.quarkus.websockets.next.UserData;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * Decides the WebSocket handshake before any Kafka traffic: the gateway must be on (503), the
 * Origin allowed (403), the API key valid (401), the caller under its rate (429) and the session
 * its own or new (403). The caller id travels to the endpoint in the connection's user data.
 */
@ApplicationScoped
public class WebSocketGuard implements HttpUpgradeCheck {
    static final UserData.TypedKey<String> CALLER = UserData.TypedKey.forString("ternstream.caller");
    /** Browsers cannot set headers on a WebSocket, so the key may also come as this query parameter. */
    static final String KEY_PARAM = "api_key";

    private final Gateway gateway;
    private final ApiKeys keys;
    private final RateLimiter limiter;

    public WebSocketGuard(Gateway gateway, ApiKeys keys, RateLimiter limiter) {
        this.gateway = gateway;
        this.keys = keys;
        this.limiter = limiter;
    }

    @Override
    public boolean appliesTo(String endpointId) {
        return endpointId.equals(SessionWebSocket.class.getName());
    }

    @Override
    public Uni<CheckResult> perform(HttpUpgradeContext context) {
        HttpServerRequest request = context.httpRequest();
        if (!gateway.enabled()) {
            return CheckResult.rejectUpgrade(503);
        }
        if (!originAllowed(request)) {
            return CheckResult.rejectUpgrade(403);
        }
        String presented = Optional.ofNullable(ApiKeys.fromAuthorization(request.getHeader("Authorization")))
                .orElse(request.getParam(KEY_PARAM));
        Optional<String> caller = keys.authenticate(presented);
        if (caller.isEmpty()) {
            return CheckResult.rejectUpgrade(401);
        }
        if (!limiter.tryAcquire(caller.get())) {
            return CheckResult.rejectUpgrade(429);
        }
        String sessionId = context.pathParam("sessionId");
        if (!Ids.valid(sessionId)) {
            return CheckResult.rejectUpgrade(400);
        }
        // the claim completes on the Kafka consumer's thread; the upgrade must continue on the request's context
        Context vertxContext = Vertx.currentContext();
        return Uni.createFrom().completionStage(gateway.owners().claim(sessionId, caller.get()))
                .emitOn(task -> vertxContext.runOnContext(ignored -> task.run()))
                .onItem().transformToUni(claim -> {
                    if (!claim.granted()) {
                        return CheckResult.rejectUpgrade(403);
                    }
                    context.userData().put(CALLER, caller.get());
                    return CheckResult.permitUpgrade();
                })
                .onFailure().recoverWithUni(e -> CheckResult.rejectUpgrade(503));
    }

    /**
     * No Origin: not a browser, nothing to protect against. Otherwise the configured list, or by
     * default the gateway's own origin (the chat page it serves).
     */
    private boolean originAllowed(HttpServerRequest request) {
        String origin = request.getHeader("Origin");
        if (origin == null) {
            return true;
        }
        Optional<List<String>> allowed = gateway.config().security().allowedOrigins();
        if (allowed.isPresent()) {
            return allowed.get().contains("*") || allowed.get().contains(origin);
        }
        try {
            String originHost = URI.create(origin).getAuthority();
            return originHost != null && originHost.equalsIgnoreCase(request.getHeader("Host"));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
