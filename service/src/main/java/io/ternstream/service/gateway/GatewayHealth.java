package io.ternstream.service.gateway;

import io.ternstream.service.config.ServiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Readiness of the gateway role: its reply consumer runs (without it no client would ever get an
 * answer) and the ownership table is loaded (before that, no session can be checked).
 */
@Readiness
@ApplicationScoped
public class GatewayHealth implements HealthCheck {
    private final ServiceConfig service;
    private final Gateway gateway;

    public GatewayHealth(ServiceConfig service, Gateway gateway) {
        this.service = service;
        this.gateway = gateway;
    }

    @Override
    public HealthCheckResponse call() {
        if (!service.role().runsGateway()) {
            return HealthCheckResponse.up("gateway");
        }
        boolean replies = gateway.alive();
        boolean owners = gateway.enabled() && gateway.owners().ready().isDone();
        return HealthCheckResponse.named("gateway")
                .withData("replyTopic", String.valueOf(gateway.replyTopic()))
                .withData("replyConsumer", replies)
                .withData("ownersLoaded", owners)
                .status(replies && owners).build();
    }
}
