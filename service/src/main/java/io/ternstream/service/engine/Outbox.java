package io.ternstream.service.engine;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * The effects waiting for one partition's task, in the order the engine produced them. The engine
 * thread adds a tick's effects as one batch, so the task never applies half of a finished turn (its
 * last event without its saved record) in one transaction and the rest in the next.
 */
final class Outbox {
    private final ConcurrentLinkedQueue<List<Outgoing>> batches = new ConcurrentLinkedQueue<>();

    void add(List<Outgoing> batch) {
        batches.add(batch);
    }

    boolean isEmpty() {
        return batches.isEmpty();
    }

    /** Hands every waiting effect, in order, to the task (on the Kafka thread). */
    void drainTo(Consumer<Outgoing> task) {
        for (List<Outgoing> batch; (batch = batches.poll()) != null; ) {
            batch.forEach(task);
        }
    }
}
