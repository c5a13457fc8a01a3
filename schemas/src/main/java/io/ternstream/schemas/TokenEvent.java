package io.ternstream.schemas;

import java.util.List;

/** Generated tokens of a turn and their text delta. */
public record TokenEvent(String sessionId, String requestId, int seq, String text, List<Integer> tokenIds)
        implements ReplyEvent {
    public TokenEvent {
        tokenIds = List.copyOf(tokenIds);
    }
}
