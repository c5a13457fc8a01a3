package io.ternstream.service.engine;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The effects waiting for one partition's task, in the order the engine produced them. The engine
 * thread adds a tick's effects as one batch, so the task never applies half of a finished turn (its
 * last event without its saved record) in one transaction and the rest in the next.
 */
final class Outbox {
    private final ConcurrentLinkedQueue<List<Outgoing>> batches = new ConcurrentLinkedQueue<>();
    /** Batches waiting in every outbox of the instance, shared: zero means nothing waits to be applied. */
    private final AtomicInteger waiting;

    Outbox(AtomicInteger waiting) {
        this.waiting = waiting;
    }

    void add(List<Outgoing> batch) {
        waiting.incrementAndGet();
        batches.add(batch);
    }

    /** Forgets what waits here (the partition left; its next owner redoes the work). */
    void discard() {
        while (batches.poll() != null) {
            waiting.decrementAndGet();
        }
    }

    boolean isEmpty() {
        return batches.isEmpty();
    }

    /** Hands every waiting effect, in order, to the task (on the Kafka thread). */
    void drainTo(Consumer<Outgoing> task) {
        for (List<Outgoing> batch; (batch = batches.poll()) != null; ) {
            waiting.decrementAndGet();
            batch.forEach(task);
        }
    }
}
