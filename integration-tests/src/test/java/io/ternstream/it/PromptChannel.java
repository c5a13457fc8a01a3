package io.ternstream.it;

import io.ternstream.schemas.PromptRequest;
import java.util.concurrent.CompletableFuture;

/** How a chatting session reaches the engines: straight to the prompts topic, or through a gateway. */
interface PromptChannel {
    /** Completes once the prompt left the client (for Kafka: acknowledged by the broker); fails when it did not. */
    CompletableFuture<Void> send(PromptRequest prompt);
}
