package io.ternstream.service.engine;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.ternstream.schemas.Contracts;
import io.ternstream.schemas.ControlAckEvent;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.SessionImport;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import io.ternstream.service.ops.Tracing;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.TopicNameExtractor;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The records the engine writes: reply events keyed by sessionId (so a session's events stay in
 * order) with routing and de-duplication headers, fork imports keyed by the target session, and
 * dead letters (the original bytes and headers, with the reason). Also chooses each reply's topic:
 * the replies topic, or the request's replyTo.
 */
final class ReplyRecords implements TopicNameExtractor<String, byte[]> {
    private final MessageCodec codec;
    private final String defaultTopic;
    /** The topic of the reply being forwarded; set just before the forward on the same (Kafka) thread. */
    private final ThreadLocal<String> nextTopic = new ThreadLocal<>();

    ReplyRecords(MessageCodec codec, String defaultTopic) {
        this.codec = codec;
        this.defaultTopic = defaultTopic;
    }

    void route(String topic) {
        nextTopic.set(topic == null ? defaultTopic : topic);
    }

    @Override
    public String extract(String key, byte[] value, org.apache.kafka.streams.processor.RecordContext context) {
        String topic = nextTopic.get();
        return topic == null ? defaultTopic : topic;
    }

    Record<String, byte[]> replyRecord(ReplyEvent event, Span span, long timestamp) {
        Headers headers = new RecordHeaders()
                .add(Contracts.HEADER_EVENT_TYPE, utf8(type(event)))
                .add(Contracts.HEADER_REQUEST_ID, utf8(event.requestId()))
                .add(Contracts.HEADER_SEQ, utf8(Integer.toString(event.seq())));
        if (span != null) {
            Tracing.inject(span, headers);
        }
        return new Record<>(event.sessionId(), codec.encode(event), timestamp, headers);
    }

    Record<String, byte[]> importRecord(SessionImport message, Context trace, long timestamp) {
        Headers headers = new RecordHeaders();
        Tracing.inject(trace, headers);
        return new Record<>(message.sessionId(), codec.encode(message), timestamp, headers);
    }

    Record<String, byte[]> deadLetter(PendingWork original, int partition, long offset, ErrorCode code, String reason,
                                      long timestamp, String sourceTopic) {
        Headers headers = new RecordHeaders();
        for (Header h : original.headers()) {
            headers.add(h);
        }
        headers.add(Contracts.HEADER_DLQ_REASON, utf8(reason))
                .add(Contracts.HEADER_DLQ_CODE, utf8(code.json()))
                .add(Contracts.HEADER_DLQ_TOPIC, utf8(sourceTopic))
                .add(Contracts.HEADER_DLQ_PARTITION, utf8(Integer.toString(partition)))
                .add(Contracts.HEADER_DLQ_OFFSET, utf8(Long.toString(offset)));
        return new Record<>(original.key(), original.value(), timestamp, headers);
    }

    static String type(ReplyEvent event) {
        return switch (event) {
            case TokenEvent t -> Contracts.TYPE_TOKEN;
            case TurnCompleteEvent c -> Contracts.TYPE_COMPLETE;
            case ErrorEvent e -> Contracts.TYPE_ERROR;
            case ControlAckEvent a -> Contracts.TYPE_ACK;
        };
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
