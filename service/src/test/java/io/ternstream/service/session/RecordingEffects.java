package io.ternstream.service.session;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.SessionImport;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What a store and a topic would receive from the core: replies in order, a store of records, finished offsets. */
final class RecordingEffects implements Effects {
    final List<ReplyEvent> replies = new ArrayList<>();
    final Map<String, SessionRecord> store = new HashMap<>();
    final List<String> unconfirmedSaves = new ArrayList<>();
    final Set<Long> done = new LinkedHashSet<>();
    final Map<Long, Integer> progress = new HashMap<>();
    final List<Long> deadLetters = new ArrayList<>();
    final List<SessionImport> imports = new ArrayList<>();

    @Override
    public void reply(int partition, String replyTopic, ReplyEvent event, Span span) {
        replies.add(event);
    }

    @Override
    public void save(int partition, SessionRecord record) {
        store.put(record.sessionId(), record);
        unconfirmedSaves.add(record.sessionId());
    }

    @Override
    public void remove(int partition, String sessionId) {
        store.remove(sessionId);
    }

    @Override
    public void done(int partition, long offset) {
        done.add(offset);
    }

    @Override
    public void progress(int partition, long offset, int nextSeq) {
        progress.merge(offset, nextSeq, Math::max);
    }

    @Override
    public void deadLetter(int partition, long offset, ErrorCode code, String reason) {
        deadLetters.add(offset);
    }

    @Override
    public void importInto(int partition, SessionImport message, Context trace) {
        imports.add(message);
    }

    List<ReplyEvent> of(String requestId) {
        return replies.stream().filter(e -> e.requestId().equals(requestId)).toList();
    }
}
