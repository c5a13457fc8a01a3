package io.ternstream.service.gateway;

import io.ternstream.schemas.PromptRequest;
import io.ternstream.service.config.ServiceConfig;
import java.util.Optional;

/**
 * The per-request limits both front ends apply before anything reaches Kafka: the service's one
 * definition of them ({@code ternstream.limits.*}), which the engine applies again.
 */
final class PromptLimits {
    private PromptLimits() {}

    /** A refused request: the HTTP status and a stable code. */
    record Refusal(int status, String code, String message) {}

    static Optional<Refusal> check(Gateway gateway, PromptRequest prompt) {
        ServiceConfig.Limits limits = gateway.requestLimits();
        Integer maxTokens = prompt.paramsOrDefaults().maxTokens();
        if (maxTokens != null && maxTokens > limits.maxTokens()) {
            return Optional.of(new Refusal(400, "max_tokens_too_large",
                    "max_tokens " + maxTokens + " exceeds the limit of " + limits.maxTokens()));
        }
        int promptTokens = promptTokens(gateway, prompt);
        if (promptTokens > limits.maxPromptTokens()) {
            return Optional.of(new Refusal(400, "context_length_exceeded", "the prompt has " + promptTokens
                    + " tokens; the limit is " + limits.maxPromptTokens()));
        }
        return Optional.empty();
    }

    /**
     * Exact with the gateway's copy of the tokenizer. Without one (a gateway pod without the model
     * files) text is not counted here: the engine applies its own prompt limit and answers with a
     * prompt_too_long error event, which the front ends map to the same status.
     */
    private static int promptTokens(Gateway gateway, PromptRequest prompt) {
        if (prompt.tokenIds() != null) {
            return prompt.tokenIds().size();
        }
        return gateway.tokenizer().map(t -> t.encode(prompt.text()).length).orElse(0);
    }
}
