package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.smallrye.reactive.messaging.kafka.KafkaClientService;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** An engine pod: the gateway's channels are off, so the connector created no Kafka client for them. */
@QuarkusTest
@TestProfile(GatewayEngineRoleTest.EngineRole.class)
class GatewayEngineRoleTest {
    public static class EngineRole implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("smallrye.config.mapping.validate-unknown", "false",
                    "ternstream.role", "engine",
                    "ternstream.model.dir", GatewayTestProfile.modelDir().toString());
        }
    }

    @Inject
    KafkaClientService clients;

    @Inject
    Gateway gateway;

    @Inject
    Vertx vertx;

    @TestHTTPResource("/")
    URI base;

    @Test
    void theGatewayChannelsDoNotConnect() {
        assertTrue(clients.getConsumerChannels().isEmpty(), "consumers: " + clients.getConsumerChannels());
        assertTrue(clients.getProducerChannels().isEmpty(), "producers: " + clients.getProducerChannels());
        assertFalse(gateway.enabled());
        assertEquals(503, WsClient.connect(vertx, base, "/v1/sessions/s1/stream", null, null).status());
    }
}
