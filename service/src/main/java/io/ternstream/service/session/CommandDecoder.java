package io.ternstream.service.session;

import io.opentelemetry.context.Context;
import io.ternstream.engine.tokenizer.TextTokenizer;
import io.ternstream.schemas.ContractViolation;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.PromptTopicMessage;
import io.ternstream.service.config.ServiceConfig;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Turns a prompts-topic value into work for a session, or into a rejection: schema-checked
 * decoding, key/sessionId agreement, tokenization and every limit that can be checked without the
 * session (prompt length, maxTokens, token ids in the vocabulary, a tokenizer for text, replyTo).
 */
public final class CommandDecoder {
    /** Either the work, or why the value is rejected (with the ids read from it, when readable). */
    public sealed interface Decoded permits Accepted, Rejected {}

    public record Accepted(Work work) implements Decoded {}

    public record Rejected(ErrorCode code, String reason, String sessionId, String requestId) implements Decoded {}

    private final MessageCodec codec;
    private final ServiceConfig.Limits limits;
    private final int vocabSize;
    private final Optional<TextTokenizer> tokenizer;
    private final Predicate<String> topicExists;
    private final int maxRecordBytes;

    public CommandDecoder(MessageCodec codec, ServiceConfig.Limits limits, int vocabSize, Optional<TextTokenizer> tokenizer,
                          Predicate<String> topicExists) {
        this.codec = codec;
        this.limits = limits;
        this.vocabSize = vocabSize;
        this.tokenizer = tokenizer;
        this.topicExists = topicExists;
        // a prompt of the maximum length as token ids or text is far below this
        this.maxRecordBytes = Math.max(64 * 1024, limits.maxPromptTokens() * 16);
    }

    public Decoded decode(String key, byte[] value, Context trace, int partition, long offset) {
        if (value != null && value.length > maxRecordBytes) {
            return new Rejected(ErrorCode.PROMPT_TOO_LONG,
                    "record of " + value.length + " bytes; the limit is " + maxRecordBytes, null, null);
        }
        PromptTopicMessage message;
        try {
            message = codec.decodePromptTopic(value);
        } catch (ContractViolation e) {
            return new Rejected(e.code(), e.getMessage(), e.sessionId(), e.requestId());
        }
        if (!message.sessionId().equals(key)) {
            return new Rejected(ErrorCode.KEY_MISMATCH, "record key '" + key + "' differs from sessionId '"
                    + message.sessionId() + "'; the key must be the sessionId so a session stays on one partition",
                    message.sessionId(), message.requestId());
        }
        int[] tokens = null;
        if (message instanceof PromptRequest prompt) {
            Decoded checked = checkPrompt(prompt);
            if (checked instanceof Rejected rejected) {
                return rejected;
            }
            tokens = ((Accepted) checked).work().promptTokens();
        }
        return new Accepted(new Work(partition, offset, message, tokens, trace, System.nanoTime()));
    }

    private Decoded checkPrompt(PromptRequest p) {
        GenerationParams params = p.paramsOrDefaults();
        if (params.maxTokens() != null && params.maxTokens() > limits.maxTokens()) {
            return reject(p, ErrorCode.INVALID_PARAMETERS,
                    "maxTokens " + params.maxTokens() + " exceeds the limit " + limits.maxTokens());
        }
        if (params.stop() != null && !params.stop().isEmpty() && tokenizer.isEmpty()) {
            return reject(p, ErrorCode.NO_TOKENIZER, "stop strings need a model with a tokenizer; this model has none");
        }
        if (p.replyTo() != null && !topicExists.test(p.replyTo())) {
            return reject(p, ErrorCode.INVALID_PARAMETERS, "replyTo topic '" + p.replyTo() + "' does not exist");
        }
        int[] tokens;
        if (p.text() != null) {
            if (tokenizer.isEmpty()) {
                return reject(p, ErrorCode.NO_TOKENIZER, "this model has no tokenizer; send tokenIds instead of text");
            }
            if (p.text().length() > limits.maxPromptTokens() * 32) {
                return reject(p, ErrorCode.PROMPT_TOO_LONG, "prompt text of " + p.text().length() + " characters");
            }
            tokens = tokenizer.get().encode(p.text());
            if (tokens.length == 0) {
                return reject(p, ErrorCode.INVALID_PARAMETERS, "the prompt text encodes to no tokens");
            }
        } else {
            tokens = p.tokenIds().stream().mapToInt(Integer::intValue).toArray();
            for (int i = 0; i < tokens.length; i++) {
                if (tokens[i] >= vocabSize) {
                    return reject(p, ErrorCode.INVALID_PARAMETERS,
                            "tokenIds[" + i + "] = " + tokens[i] + " is outside the vocabulary of " + vocabSize);
                }
            }
        }
        if (tokens.length > limits.maxPromptTokens()) {
            return reject(p, ErrorCode.PROMPT_TOO_LONG,
                    "prompt has " + tokens.length + " tokens; the limit is " + limits.maxPromptTokens());
        }
        return new Accepted(new Work(-1, -1, p, tokens, null, 0));
    }

    private static Rejected reject(PromptRequest p, ErrorCode code, String reason) {
        return new Rejected(code, reason, p.sessionId(), p.requestId());
    }
}
