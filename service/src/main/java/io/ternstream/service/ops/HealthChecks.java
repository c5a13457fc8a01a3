package io.ternstream.service.ops;

import io.ternstream.service.ServiceLifecycle;
import io.ternstream.service.kafka.KafkaConnection;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/** /q/health/live: the engine loop runs. /q/health/ready: the model is loaded and Kafka answers. */
public final class HealthChecks {
    private HealthChecks() {}

    @Liveness
    @ApplicationScoped
    public static class EngineLoop implements HealthCheck {
        private final ServiceLifecycle lifecycle;

        public EngineLoop(ServiceLifecycle lifecycle) {
            this.lifecycle = lifecycle;
        }

        @Override
        public HealthCheckResponse call() {
            boolean engineRole = lifecycle.config().role().runsEngine();
            return HealthCheckResponse.named("engine-loop")
                    .status(!engineRole || !lifecycle.modelLoaded() || lifecycle.engineLoopAlive()).build();
        }
    }

    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        private final ServiceLifecycle lifecycle;
        private final KafkaConnection kafka;

        public Ready(ServiceLifecycle lifecycle, KafkaConnection kafka) {
            this.lifecycle = lifecycle;
            this.kafka = kafka;
        }

        @Override
        public HealthCheckResponse call() {
            boolean engineRole = lifecycle.config().role().runsEngine();
            boolean model = !engineRole || (lifecycle.modelLoaded() && lifecycle.engineLoopAlive());
            boolean reachable = kafka.reachable(2000);
            return HealthCheckResponse.named("ternstream")
                    .withData("role", lifecycle.config().role().name())
                    .withData("model", engineRole ? String.valueOf(model) : "not used by this role")
                    .withData("kafka", reachable)
                    .withData("bootstrapServers", String.valueOf(kafka.bootstrapServers()))
                    .status(model && reachable).build();
        }
    }
}
