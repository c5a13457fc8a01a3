package io.ternstream.service.session;

import io.opentelemetry.context.Context;
import io.ternstream.schemas.PromptTopicMessage;

/**
 * A decoded, checked prompts-topic message for its session. promptTokens is set for prompts
 * (tokenized and within the limits). partition and offset say where it came from: effects of the
 * work are routed back to that partition's task, and the offset names the work durably. resumeSeq
 * &gt; 0 marks a turn redone after a crash whose events below that seq were already delivered.
 */
public record Work(int partition, long offset, PromptTopicMessage message, int[] promptTokens, Context trace,
                   long receivedNanos, int resumeSeq) {

    public Work(int partition, long offset, PromptTopicMessage message, int[] promptTokens, Context trace, long receivedNanos) {
        this(partition, offset, message, promptTokens, trace, receivedNanos, 0);
    }

    public Work {
        trace = trace == null ? Context.root() : trace;
    }

    public String sessionId() {
        return message.sessionId();
    }

    public String requestId() {
        return message.requestId();
    }

    public Work resumingAt(int seq) {
        return new Work(partition, offset, message, promptTokens, trace, receivedNanos, seq);
    }
}
