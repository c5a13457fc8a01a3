package io.ternstream.service.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
    private final TopicPartition p0 = new TopicPartition("prompts", 0);
    private final TopicPartition p1 = new TopicPartition("prompts", 1);

    @Test
    void commitStopsAtTheLowestUnfinishedOffset() {
        OffsetTracker t = new OffsetTracker();
        t.received(p0, 10);
        t.received(p0, 11);
        t.received(p0, 12);
        t.done(p0, 11); // another session's record finished first
        t.done(p0, 12);
        assertEquals(Map.of(p0, 10L), t.committable(), "10 is not finished: a crash must repeat it");
        t.markCommitted(t.committable());
        assertTrue(t.committable().isEmpty(), "nothing new to commit");
        t.done(p0, 10);
        assertEquals(Map.of(p0, 13L), t.committable());
    }

    @Test
    void partitionsAreIndependentAndForgettable() {
        OffsetTracker t = new OffsetTracker();
        t.received(p0, 0);
        t.received(p1, 5);
        t.done(p1, 5);
        assertEquals(Map.of(p0, 0L, p1, 6L), t.committable());
        t.forget(p1);
        assertEquals(Map.of(p0, 0L), t.committable());
        assertEquals(1, t.pending(p0));
        t.done(p1, 99); // a late acknowledgement for a revoked partition is ignored
        assertEquals(0, t.pending(p1));
    }
}
