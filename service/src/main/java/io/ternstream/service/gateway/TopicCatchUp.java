package io.ternstream.service.gateway;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether a reader that started at the beginning of a topic has applied every record the topic
 * held at a given moment: per partition, the offset of its last record then (end offset - 1), and
 * the last offset applied since. The last record of a partition is never compacted away (it is in
 * the active segment), so reaching it means having read everything before it.
 */
final class TopicCatchUp {
    private final Map<Integer, Long> applied = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile Map<Integer, Long> lastOffsets;

    /** Called by the reader for each record, in offset order per partition. */
    void applied(int partition, long offset) {
        applied.merge(partition, offset, Math::max);
        check();
    }

    /**
     * Sets the goal: the log start and end offsets per partition at the moment the topic must be
     * read up to. Partitions with no record between them are done from the start.
     */
    void readUpTo(Map<Integer, Long> startOffsets, Map<Integer, Long> endOffsets) {
        Map<Integer, Long> last = new java.util.HashMap<>();
        endOffsets.forEach((partition, end) -> {
            if (end > startOffsets.getOrDefault(partition, 0L)) {
                last.put(partition, end - 1);
            }
        });
        lastOffsets = Map.copyOf(last);
        check();
    }

    /** Completes once every record present at the goal's moment has been applied. */
    CompletableFuture<Void> done() {
        return done;
    }

    private void check() {
        Map<Integer, Long> goal = lastOffsets;
        if (goal != null && !done.isDone()
                && goal.entrySet().stream().allMatch(e -> applied.getOrDefault(e.getKey(), -1L) >= e.getValue())) {
            done.complete(null);
        }
    }
}
