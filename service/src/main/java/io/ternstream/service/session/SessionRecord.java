package io.ternstream.service.session;

import io.ternstream.schemas.ReplyEvent;
import java.time.Duration;
import java.util.List;

/**
 * What the session store holds for one conversation between its turns: the engine's state bytes
 * (null: empty), how many turns it took, when it was last active, whether it was deleted, and the
 * last event of each recently answered request, so a repeated requestId gets the same answer again.
 * A deleted session keeps its answered requests until it expires, so a retried request is still
 * recognised.
 *
 * @param fingerprint the model that wrote the state; a record of another model is not used
 * @param appliedOffset the prompts-topic offset (in the session's partition) of the last command this
 *        record reflects, -1 for none: a command at or below it was applied already, whatever its
 *        requestId, so a stale copy of it (a record delivered again, work left in a restored pending
 *        store) is never applied twice
 */
public record SessionRecord(String sessionId, String fingerprint, byte[] state, long turnCount,
                            long lastActiveMillis, boolean deleted, long appliedOffset, List<Answered> answered) {
    /** No command applied yet. */
    public static final long NONE_APPLIED = -1;
    /** How many answered requests a record remembers. */
    public static final int ANSWERED_KEPT = 32;

    /** A request that was applied, and the last event it was answered with. */
    public record Answered(String requestId, ReplyEvent lastEvent) {}

    public SessionRecord {
        answered = List.copyOf(answered);
    }

    public static SessionRecord empty(String sessionId, String fingerprint, long nowMillis) {
        return new SessionRecord(sessionId, fingerprint, null, 0, nowMillis, false, NONE_APPLIED, List.of());
    }

    /** Known to clients: it took a turn or holds a state, and is not deleted. */
    public boolean exists() {
        return !deleted && (turnCount > 0 || state != null);
    }

    /** Idle for longer than the TTL (the caller knows it has no work). */
    public boolean expired(long nowMillis, Duration ttl) {
        return expired(lastActiveMillis, nowMillis, ttl);
    }

    public static boolean expired(long lastActiveMillis, long nowMillis, Duration ttl) {
        return nowMillis - lastActiveMillis > ttl.toMillis();
    }

    /** The command at this offset of the session's partition is reflected in this record already. */
    public boolean applied(long offset) {
        return offset <= appliedOffset;
    }

    public ReplyEvent answerOf(String requestId) {
        for (Answered a : answered) {
            if (a.requestId().equals(requestId)) {
                return a.lastEvent();
            }
        }
        return null;
    }
}
