package io.ternstream.service.gateway;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ternstream.schemas.ResetCommand;
import io.vertx.core.Vertx;
import java.net.URI;
import java.time.Duration;
import java.util.UUID;

/**
 * A client sends the engines' internal {@code import} message on its own session's WebSocket,
 * naming another session as its source (the engine would acknowledge the import on that session's
 * stream). The gateway must refuse it, and the other session's stream must stay untouched.
 */
final class ImportInjection {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private ImportInjection() {}

    /** The victim's connection uses victimKey, the attacker's malloryKey (null: no key, open access). */
    static void assertRefused(Vertx vertx, URI base, String victimKey, String malloryKey) {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String victim = "victim-" + suffix;
        String mallory = "mallory-" + suffix;
        try (WsClient victimWs = open(vertx, base, victim, victimKey);
             WsClient malloryWs = open(vertx, base, mallory, malloryKey)) {
            malloryWs.send("{\"type\":\"import\",\"sessionId\":\"" + mallory + "\",\"requestId\":\"x1\","
                    + "\"sourceSessionId\":\"" + victim + "\",\"fingerprint\":\"9f2c\",\"state\":\"AAECAwQ=\","
                    + "\"turnCount\":3}");
            await().atMost(WAIT).until(() -> !malloryWs.of("x1").isEmpty());
            JsonNode refusal = malloryWs.of("x1").getFirst();
            assertEquals("gateway_error", refusal.get("type").asText(), refusal.toString());
            assertEquals(400, refusal.get("status").asInt());
            assertEquals("internal_type", refusal.get("code").asText());
            // an import would have been keyed by the attacker's session: a later command on that
            // session is applied after it, so once its ack is back the import's ack would be too
            malloryWs.send(new ResetCommand(mallory, "after"));
            await().atMost(WAIT).until(() -> malloryWs.finished("after"));
            await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> victimWs.received.isEmpty());
            assertTrue(victimWs.received.isEmpty(), () -> "the victim's stream got " + victimWs.received);
        }
    }

    private static WsClient open(Vertx vertx, URI base, String session, String key) {
        var result = WsClient.connect(vertx, base, "/v1/sessions/" + session + "/stream", key, null);
        assertEquals(101, result.status());
        return result.client();
    }
}
