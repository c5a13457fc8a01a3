package io.ternstream.service.api;

import io.smallrye.mutiny.Multi;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.schemas.ReplyEvent;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * What a front end (the gateway's WebSocket and OpenAI endpoints) needs from the engine, with Kafka
 * behind it: submit a prompt or control command for a session, and receive that session's reply
 * events in order, duplicates (a redelivered turn repeats its events) already dropped.
 * Available in roles gateway and all.
 */
public interface SessionBus {

    /** Puts the message on the prompts topic keyed by its sessionId; completes when Kafka has it. */
    CompletionStage<Void> send(PromptTopicMessage message);

    /**
     * Calls the listener with every reply event of the session that arrives from now on, in order,
     * each (requestId, seq) once. Listeners run on the bus's reader thread: hand off, don't block.
     */
    Subscription subscribe(String sessionId, Consumer<ReplyEvent> listener);

    /** The same as a Multi, cancelled by cancelling the subscription. */
    default Multi<ReplyEvent> replies(String sessionId) {
        return Multi.createFrom().emitter(emitter -> {
            Subscription s = subscribe(sessionId, emitter::emit);
            emitter.onTermination(s::close);
        });
    }

    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }
}
