package io.ternstream.service.scheduler;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * Which prompts-topic offsets may be committed. Records of different sessions in one partition
 * finish out of order, so a partition's commit position is its lowest unfinished offset (or one past
 * the highest seen when all are finished): a crash never skips a record whose state is not written.
 * Scheduler-thread confined.
 */
final class OffsetTracker {
    private static final class PartitionOffsets {
        final TreeSet<Long> pending = new TreeSet<>();
        long highestSeen = -1;
        long committed = -1;
    }

    private final Map<TopicPartition, PartitionOffsets> partitions = new HashMap<>();

    void received(TopicPartition tp, long offset) {
        PartitionOffsets p = partitions.computeIfAbsent(tp, k -> new PartitionOffsets());
        p.pending.add(offset);
        p.highestSeen = Math.max(p.highestSeen, offset);
    }

    void done(TopicPartition tp, long offset) {
        PartitionOffsets p = partitions.get(tp);
        if (p != null) {
            p.pending.remove(offset);
        }
    }

    /** Positions (next offset to read) that advanced since the last call to {@link #markCommitted}. */
    Map<TopicPartition, Long> committable() {
        Map<TopicPartition, Long> result = new HashMap<>();
        partitions.forEach((tp, p) -> {
            if (p.highestSeen < 0) {
                return;
            }
            long position = p.pending.isEmpty() ? p.highestSeen + 1 : p.pending.first();
            if (position > p.committed) {
                result.put(tp, position);
            }
        });
        return result;
    }

    void markCommitted(Map<TopicPartition, Long> positions) {
        positions.forEach((tp, pos) -> {
            PartitionOffsets p = partitions.get(tp);
            if (p != null) {
                p.committed = Math.max(p.committed, pos);
            }
        });
    }

    int pending(TopicPartition tp) {
        PartitionOffsets p = partitions.get(tp);
        return p == null ? 0 : p.pending.size();
    }

    void forget(TopicPartition tp) {
        partitions.remove(tp);
    }
}
