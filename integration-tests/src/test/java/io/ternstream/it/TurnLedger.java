package io.ternstream.it;

import io.ternstream.schemas.ReplyEvent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every turn of the soak: when it was sent and how often, when the client saw its answer, and every
 * event of it a read_committed consumer of the reply topics saw (duplicates included).
 */
final class TurnLedger {
    /** An event as it came off a reply topic. */
    record Arrival(ReplyEvent event, long nanos) {}

    /** Why a send attempt got no answer: the gateway refused it (503 while Kafka is away), so it is sent again. */
    static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    /** One turn. */
    static final class Entry {
        final SoakTurn turn;
        final long sentNanos;
        final AtomicInteger sends = new AtomicInteger();
        /** When the client saw the terminal event (0: not yet). */
        volatile long answeredNanos;
        volatile ReplyEvent answer;
        private volatile CompletableFuture<ReplyEvent> attempt = new CompletableFuture<>();
        private final List<Arrival> arrivals = new ArrayList<>();

        private Entry(SoakTurn turn, long sentNanos) {
            this.turn = turn;
            this.sentNanos = sentNanos;
        }

        /** The current send attempt: completes with the answer, or fails with {@link Refused}. */
        CompletableFuture<ReplyEvent> attempt() {
            return attempt;
        }

        synchronized List<Arrival> arrivals() {
            return List.copyOf(arrivals);
        }

        boolean answered() {
            return answeredNanos != 0;
        }

        long latencyNanos() {
            return answeredNanos - sentNanos;
        }
    }

    private final Map<String, Entry> byRequest = new ConcurrentHashMap<>();
    private final Map<String, List<Entry>> bySession = new ConcurrentHashMap<>();
    private final AtomicInteger unknownEvents = new AtomicInteger();

    /** A send attempt of a turn: the first creates its entry, later ones (after a refusal) reuse it. */
    Entry sending(SoakTurn turn) {
        Entry entry = byRequest.computeIfAbsent(turn.requestId(), id -> {
            Entry e = new Entry(turn, System.nanoTime());
            bySession.computeIfAbsent(turn.session(), s -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(e);
            return e;
        });
        if (entry.sends.getAndIncrement() > 0) {
            entry.attempt = new CompletableFuture<>();
        }
        return entry;
    }

    void refused(String requestId, String why) {
        Entry e = byRequest.get(requestId);
        if (e != null) {
            e.attempt.completeExceptionally(new Refused(why));
        }
    }

    /** An event read from a reply topic (read_committed). */
    void fromTopic(ReplyEvent event) {
        long now = System.nanoTime();
        Entry e = byRequest.get(event.requestId());
        if (e == null) {
            unknownEvents.incrementAndGet();
            return;
        }
        synchronized (e) {
            e.arrivals.add(new Arrival(event, now));
        }
        if (!e.turn.viaGateway()) {
            answer(e, event, now);
        }
    }

    /** An event the gateway relayed to the client's WebSocket. */
    void fromGateway(ReplyEvent event) {
        Entry e = byRequest.get(event.requestId());
        if (e != null) {
            answer(e, event, System.nanoTime());
        }
    }

    private static void answer(Entry e, ReplyEvent event, long now) {
        if (!event.terminal()) {
            return;
        }
        synchronized (e) {
            if (e.answeredNanos == 0) {
                e.answeredNanos = now;
                e.answer = event;
            }
        }
        e.attempt.complete(event);
    }

    Collection<Entry> all() {
        return byRequest.values();
    }

    /** The session's turns in the order they were first sent: the order they are in its context. */
    List<Entry> session(String session) {
        return bySession.getOrDefault(session, List.of());
    }

    int unknownEvents() {
        return unknownEvents.get();
    }
}
