package io.ternstream.service.engine;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.LongConsumer;

/**
 * Pending records whose work has finished, deleted only once the session records saved with them are
 * surely in the changelog. With at-least-once, a Kafka Streams commit flushes each store's changelog on
 * its own, so a crash in the middle of one can leave a pending record's delete in the changelog without
 * the session record saved just before it: the next owner would then neither redo the turn nor have it
 * in the session's context, though its answer went out. Deleted after several commits instead (a commit
 * waits until the previous one's writes are acknowledged), the delete lands after the save. A crash
 * before that leaves the pending record, which the next owner skips: the session record's applied
 * offset covers it. Under exactly-once a commit is one transaction, and deletes go at once.
 */
final class FinishedWork {
    private final long delayNanos;
    /** Offset and finishing time, in finishing order. */
    private final ArrayDeque<long[]> finished = new ArrayDeque<>();

    FinishedWork(Duration delay) {
        this.delayNanos = delay.toNanos();
    }

    /** Ten commit intervals, at least a second; zero under exactly-once. */
    static Duration delay(boolean exactlyOnce, Duration commitInterval) {
        if (exactlyOnce) {
            return Duration.ZERO;
        }
        Duration ten = commitInterval.multipliedBy(10);
        return ten.compareTo(Duration.ofSeconds(1)) > 0 ? ten : Duration.ofSeconds(1);
    }

    void add(long offset, long nowNanos) {
        finished.addLast(new long[] {offset, nowNanos});
    }

    /** Deletes, through the given consumer, every finished record old enough. */
    void release(long nowNanos, LongConsumer delete) {
        while (!finished.isEmpty() && nowNanos - finished.peekFirst()[1] >= delayNanos) {
            delete.accept(finished.pollFirst()[0]);
        }
    }

    int held() {
        return finished.size();
    }
}
