package io.ternstream.service.scheduler;

import io.opentelemetry.api.trace.Span;
import io.ternstream.schemas.Contracts;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.service.ops.Tracing;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Puts reply events on the replies topic (or a request's replyTo), keyed by sessionId so one
 * session's events stay in order, with headers for routing and de-duplication without parsing.
 */
final class TokenPublisher {
    private final Outbound out;
    private final MessageCodec codec;
    private final String defaultTopic;

    TokenPublisher(Outbound out, MessageCodec codec, String defaultTopic) {
        this.out = out;
        this.codec = codec;
        this.defaultTopic = defaultTopic;
    }

    String defaultTopic() {
        return defaultTopic;
    }

    CompletableFuture<?> publish(String topic, ReplyEvent event, Span span) {
        return out.send(record(topic, event, span));
    }

    /** The record for an event: encoded value, routing headers and the span's trace context. */
    ProducerRecord<String, byte[]> record(String topic, ReplyEvent event, Span span) {
        var record = new ProducerRecord<>(topic == null ? defaultTopic : topic, event.sessionId(), codec.encode(event));
        String type = switch (event) {
            case io.ternstream.schemas.TokenEvent t -> Contracts.TYPE_TOKEN;
            case io.ternstream.schemas.TurnCompleteEvent c -> Contracts.TYPE_COMPLETE;
            case io.ternstream.schemas.ErrorEvent e -> Contracts.TYPE_ERROR;
            case io.ternstream.schemas.ControlAckEvent a -> Contracts.TYPE_ACK;
        };
        record.headers()
                .add(Contracts.HEADER_EVENT_TYPE, type.getBytes(StandardCharsets.UTF_8))
                .add(Contracts.HEADER_REQUEST_ID, event.requestId().getBytes(StandardCharsets.UTF_8))
                .add(Contracts.HEADER_SEQ, Integer.toString(event.seq()).getBytes(StandardCharsets.UTF_8));
        if (span != null) {
            Tracing.inject(span, record.headers());
        }
        return record;
    }
}
