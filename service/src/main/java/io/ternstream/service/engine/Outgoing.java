package io.ternstream.service.engine;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.SessionImport;
import io.ternstream.service.session.SessionRecord;

/** One effect of the session core, on its way from the engine thread to the partition's Kafka task. */
sealed interface Outgoing {
    record Reply(String topic, ReplyEvent event, Span span) implements Outgoing {}

    record Save(SessionRecord record) implements Outgoing {}

    record Remove(String sessionId) implements Outgoing {}

    record Done(long offset) implements Outgoing {}

    record Progress(long offset, int nextSeq) implements Outgoing {}

    record DeadLetter(long offset, ErrorCode code, String reason) implements Outgoing {}

    record Import(SessionImport message, Context trace) implements Outgoing {}
}
