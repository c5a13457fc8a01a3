package io.ternstream.service.session;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.SessionImport;

/**
 * What the session core asks of the world, for the partition a session lives in. The adapter turns
 * each call into Kafka writes (a reply record, a store update, a dead letter) in the order given.
 */
public interface Effects {
    /** A reply event; replyTopic null means the default replies topic. span may be null. */
    void reply(int partition, String replyTopic, ReplyEvent event, Span span);

    /** The session's record changed (turn finished, reset, delete, import, fresh start after a lost state). */
    void save(int partition, SessionRecord record);

    /** The session is gone for good (expired). */
    void remove(int partition, String sessionId);

    /** The work at this offset is finished: nothing of it needs redoing after a crash. */
    void done(int partition, long offset);

    /** Reply events below nextSeq of the work at this offset were handed over (a redo skips them). */
    void progress(int partition, long offset, int nextSeq);

    /** The work at this offset was refused by its session: its original record goes to the dead letters. */
    void deadLetter(int partition, long offset, ErrorCode code, String reason);

    /** The second half of a fork: the copied state, to be applied by the target session's owner. */
    void importInto(int partition, SessionImport message, Context trace);
}
