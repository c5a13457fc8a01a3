package io.ternstream.service.session;

import io.opentelemetry.api.trace.Span;
import io.ternstream.schemas.ControlAckEvent;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.service.ops.ServiceMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * How applied work ends, each way reported to {@link Effects} in the same order: a refusal (an error
 * and a dead letter), a reply that changes nothing, or an answer that changed the session (its record
 * saved with the answer remembered). Then the work's offset is done.
 */
final class Outcomes {
    private final Effects effects;
    private final ServiceMetrics metrics;
    private final String fingerprint;
    private final LongSupplier clock;

    Outcomes(Effects effects, ServiceMetrics metrics, String fingerprint, LongSupplier clock) {
        this.effects = effects;
        this.metrics = metrics;
        this.fingerprint = fingerprint;
        this.clock = clock;
    }

    /** The session refused the work: an error to the client, the record to the dead letters. */
    void refuse(Work work, ErrorCode code, String reason) {
        metrics.rejected(code);
        send(work, null, new ErrorEvent(work.sessionId(), work.requestId(), 0, code, reason), null);
        effects.deadLetter(work.partition(), work.offset(), code, reason);
        effects.done(work.partition(), work.offset());
    }

    /** A reply that changes nothing in the session. */
    void reply(Work work, ReplyEvent event) {
        send(work, replyTopic(work), event, null);
        effects.done(work.partition(), work.offset());
    }

    /**
     * A reply event of the work, counted as delivered in its progress. One below the work's resumeSeq
     * was delivered before the work was taken up again (a crash, a hand-over) and is not sent again.
     */
    void send(Work work, String topic, ReplyEvent event, Span span) {
        if (event.seq() >= work.resumeSeq()) {
            effects.reply(work.partition(), topic, event, span);
            effects.progress(work.partition(), work.offset(), event.seq() + 1);
        }
    }

    /** Work that needs neither reply nor save (a stale copy of applied work). */
    void skip(Work work) {
        effects.done(work.partition(), work.offset());
    }

    /** The work changed the session and is answered with this event. */
    void answer(LiveSession session, Work work, ReplyEvent event) {
        send(work, replyTopic(work), event, null);
        remember(session, work, event);
    }

    /** Saves the session's record with the request's last event remembered, then reports the work done. */
    void remember(LiveSession session, Work work, ReplyEvent last) {
        SessionRecord r = session.record;
        session.record = new SessionRecord(r.sessionId(), fingerprint, r.state(), r.turnCount(), clock.getAsLong(),
                r.deleted(), Math.max(r.appliedOffset(), work.offset()),
                withAnswer(r.answered(), new SessionRecord.Answered(work.requestId(), last)));
        session.unwrittenSaves++;
        effects.save(session.partition, session.record);
        effects.done(work.partition(), work.offset());
    }

    /** The answered requests with the latest added (the oldest forgotten beyond the bound). */
    static List<SessionRecord.Answered> withAnswer(List<SessionRecord.Answered> answered, SessionRecord.Answered latest) {
        List<SessionRecord.Answered> next = new ArrayList<>(answered.size() + 1);
        for (SessionRecord.Answered a : answered) {
            if (!a.requestId().equals(latest.requestId())) {
                next.add(a);
            }
        }
        next.add(latest);
        return next.size() > SessionRecord.ANSWERED_KEPT ? next.subList(next.size() - SessionRecord.ANSWERED_KEPT, next.size()) : next;
    }

    SessionRecord withState(SessionRecord r, byte[] state, long turnCount, boolean deleted) {
        return new SessionRecord(r.sessionId(), fingerprint, state, turnCount, r.lastActiveMillis(), deleted, r.appliedOffset(),
                r.answered());
    }

    SessionRecord empty(String sessionId) {
        return SessionRecord.empty(sessionId, fingerprint, clock.getAsLong());
    }

    static ControlAckEvent ack(Work work, String command, boolean ok, String detail) {
        return new ControlAckEvent(work.sessionId(), work.requestId(), 0, command, ok, detail);
    }

    private static String replyTopic(Work work) {
        return work.message() instanceof PromptRequest r ? r.replyTo() : null;
    }
}
