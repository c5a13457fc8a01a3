package io.ternstream.service.gateway;

import io.ternstream.schemas.ReplyEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Fans reply events out to the connections and requests of this replica, per session, in arrival
 * order, without duplicates by (requestId, seq); keeps the last events of each session so a client
 * that reconnects with its last seen seq gets what it missed. Only sessions used through this
 * replica are tracked; events of other sessions are dropped unread.
 */
public final class ReplyHub {
    /** Called on the reply consumer's thread: must not block. */
    public interface Listener {
        void onReply(Reply reply);
    }

    /** Where a reconnecting client stopped: the last (requestId, seq) it saw. */
    public record ResumePoint(String requestId, int lastSeq) {}

    private static final int REMEMBERED_REQUESTS = 1024;

    private final int bufferEvents;
    private final ConcurrentHashMap<String, SessionStream> streams = new ConcurrentHashMap<>();

    public ReplyHub(int bufferEvents) {
        this.bufferEvents = bufferEvents;
    }

    /** Starts tracking a session (idempotent): its events are kept from now on. */
    public void track(String sessionId) {
        streams.computeIfAbsent(sessionId, id -> new SessionStream()).touch();
    }

    public boolean tracks(String sessionId) {
        return streams.containsKey(sessionId);
    }

    /** Delivers one event; false when it was a duplicate or its session is not tracked here. */
    public boolean accept(Reply reply) {
        SessionStream stream = streams.get(reply.event().sessionId());
        return stream != null && stream.accept(reply, bufferEvents);
    }

    /**
     * Registers a listener; with a resume point, first replays the buffered events after it. Both
     * happen under the session's lock, so no event is missed or doubled between replay and live.
     * Returns false, registering nothing, when the resume point is not (or no longer) in the buffer.
     */
    public boolean attach(String sessionId, Listener listener, ResumePoint resume) {
        SessionStream stream = streams.computeIfAbsent(sessionId, id -> new SessionStream());
        return stream.attach(listener, resume);
    }

    /**
     * Adds events of the session read back from the reply topics (after a restart, or once they
     * left the buffer) in front of the buffered ones, so a resume can find them.
     */
    public void backfill(String sessionId, List<Reply> history) {
        streams.computeIfAbsent(sessionId, id -> new SessionStream()).backfill(history, bufferEvents);
    }

    /** Drops what this replica holds of a session, as a restart would (tests). */
    void forget(String sessionId) {
        SessionStream stream = streams.get(sessionId);
        if (stream != null) {
            stream.clear();
        }
    }

    public void detach(String sessionId, Listener listener) {
        SessionStream stream = streams.get(sessionId);
        if (stream != null) {
            stream.detach(listener);
        }
    }

    /** Forgets sessions with no listener and no event for longer than idleMillis. */
    public void sweep(long idleMillis) {
        long now = System.currentTimeMillis();
        streams.entrySet().removeIf(e -> e.getValue().idleSince(now) > idleMillis);
    }

    int trackedSessions() {
        return streams.size();
    }

    private static final class SessionStream {
        private final ArrayDeque<Reply> buffer = new ArrayDeque<>();
        private final List<Listener> listeners = new CopyOnWriteArrayList<>();
        /** Highest seq delivered per request; a redelivered turn repeats seqs from 0 and is dropped. */
        private final Map<String, Integer> lastSeq = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
                return size() > REMEMBERED_REQUESTS;
            }
        };
        private volatile long lastActive = System.currentTimeMillis();

        void touch() {
            lastActive = System.currentTimeMillis();
        }

        long idleSince(long now) {
            return listeners.isEmpty() ? now - lastActive : Long.MIN_VALUE; // never idle while someone listens
        }

        synchronized boolean accept(Reply reply, int bufferEvents) {
            ReplyEvent e = reply.event();
            Integer seen = lastSeq.get(e.requestId());
            if (seen != null && e.seq() <= seen) {
                return false;
            }
            lastSeq.put(e.requestId(), e.seq());
            buffer.addLast(reply);
            while (buffer.size() > bufferEvents) {
                buffer.removeFirst();
            }
            lastActive = System.currentTimeMillis();
            for (Listener l : listeners) {
                l.onReply(reply);
            }
            return true;
        }

        synchronized boolean attach(Listener listener, ResumePoint resume) {
            if (resume != null) {
                List<Reply> missed = missedSince(resume);
                if (missed == null) {
                    return false;
                }
                missed.forEach(listener::onReply);
            }
            listeners.add(listener);
            lastActive = System.currentTimeMillis();
            return true;
        }

        /** Puts events read back from the reply topics before what is buffered, without duplicates. */
        synchronized void backfill(List<Reply> history, int bufferEvents) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            ArrayDeque<Reply> merged = new ArrayDeque<>();
            for (Reply r : history) {
                if (seen.add(r.event().requestId() + '\u0000' + r.event().seq())) {
                    merged.addLast(r);
                }
            }
            for (Reply r : buffer) {
                if (seen.add(r.event().requestId() + '\u0000' + r.event().seq())) {
                    merged.addLast(r);
                }
            }
            while (merged.size() > bufferEvents) {
                merged.removeFirst();
            }
            buffer.clear();
            buffer.addAll(merged);
            for (Reply r : merged) {
                lastSeq.merge(r.event().requestId(), r.event().seq(), Math::max);
            }
            lastActive = System.currentTimeMillis();
        }

        void clear() {
            synchronized (this) {
                buffer.clear();
                lastSeq.clear();
            }
        }

        /** Events after (requestId, lastSeq) in arrival order; null when that request is not buffered. */
        private List<Reply> missedSince(ResumePoint resume) {
            List<Reply> after = null;
            for (Iterator<Reply> it = buffer.iterator(); it.hasNext(); ) {
                Reply r = it.next();
                if (after != null) {
                    after.add(r);
                } else if (r.event().requestId().equals(resume.requestId())) {
                    if (r.event().seq() >= resume.lastSeq()) {
                        after = new ArrayList<>();
                        if (r.event().seq() > resume.lastSeq()) {
                            after.add(r); // the client's last event left the buffer already
                        }
                    }
                }
            }
            if (after == null && lastSeq.containsKey(resume.requestId())
                    && lastSeq.get(resume.requestId()) <= resume.lastSeq()) {
                return new ArrayList<>(); // nothing newer yet: the client is up to date
            }
            return after;
        }

        void detach(Listener listener) {
            listeners.remove(listener);
            lastActive = System.currentTimeMillis();
        }
    }
}
