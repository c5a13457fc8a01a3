package io.ternstream.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Value on the compacted session-state topic. state is null for an empty (new or reset) state;
 * deleted marks a deleted session, kept until it expires so a redelivered record for it is still
 * recognised by appliedOffset (the prompts-topic offset of the last record applied to the session).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionSnapshot(
        String sessionId,
        String fingerprint,
        byte[] state,
        long turnCount,
        String lastRequestId,
        long appliedOffset,
        List<String> recentRequestIds,
        long updatedAtMillis,
        boolean deleted) {

    public SessionSnapshot {
        recentRequestIds = List.copyOf(recentRequestIds);
    }
}
