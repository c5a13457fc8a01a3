package io.ternstream.service.gateway;

import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

/**
 * What the gateway writes to Kafka, through the connector's emitters: clients' messages to the
 * prompts topic and ownership claims to the owners topic, each keyed by sessionId so a session's
 * records stay in order. A send completes when Kafka has acknowledged the record.
 */
@ApplicationScoped
public class GatewayPublisher {
    private final Emitter<Record<String, byte[]>> prompts;
    private final Emitter<Record<String, String>> claims;

    public GatewayPublisher(@Channel(GatewayChannels.PROMPTS) Emitter<Record<String, byte[]>> prompts,
                            @Channel(GatewayChannels.CLAIMS) Emitter<Record<String, String>> claims) {
        this.prompts = prompts;
        this.claims = claims;
    }

    /** An encoded prompts-topic message. */
    CompletableFuture<Void> prompt(String sessionId, byte[] value) {
        return send(prompts, Record.of(sessionId, value));
    }

    /** The session's owner, or a tombstone (owner null) once the session is deleted. */
    CompletableFuture<Void> owner(String sessionId, String owner) {
        return send(claims, Record.of(sessionId, owner));
    }

    private static <T> CompletableFuture<Void> send(Emitter<T> emitter, T record) {
        try {
            return emitter.send(record).toCompletableFuture();
        } catch (RuntimeException e) { // no downstream request left (Kafka slow or gone), or shutting down
            return CompletableFuture.failedFuture(e);
        }
    }
}
