package io.ternstream.service.gateway;

import io.ternstream.service.config.ServiceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Readiness of the gateway role: it serves once its channels are connected, its reply consumer
 * stands at the end of its topics and the ownership table is loaded (before that, no session can be
 * checked). The channels' own health (consumers and producers connected, failures) is the
 * connector's, in the messaging checks next to this one.
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
        boolean owners = gateway.owners().ready().isDone();
        return HealthCheckResponse.named("gateway")
                .withData("replyTopic", String.valueOf(gateway.replyTopic()))
                .withData("ownersLoaded", owners)
                .status(gateway.enabled()).build();
    }
}
