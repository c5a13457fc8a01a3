package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicCatchUpTest {
    final TopicCatchUp catchUp = new TopicCatchUp();

    @Test
    void doneOnceTheLastRecordOfEveryPartitionAtStartIsApplied() {
        catchUp.readUpTo(Map.of(0, 0L, 1, 0L), Map.of(0, 3L, 1, 1L));
        catchUp.applied(0, 0);
        catchUp.applied(1, 0);
        catchUp.applied(0, 1);
        assertFalse(catchUp.done().isDone(), "partition 0 still holds offset 2");
        catchUp.applied(0, 2);
        assertTrue(catchUp.done().isDone());
    }

    @Test
    void emptyPartitionsAndCompactedStartsNeedNothing() {
        // partition 1 was compacted or deleted up to its end: nothing to read there
        catchUp.readUpTo(Map.of(0, 0L, 1, 7L, 2, 0L), Map.of(0, 0L, 1, 7L, 2, 0L));
        assertTrue(catchUp.done().isDone());
    }

    @Test
    void recordsAppliedBeforeTheGoalIsKnownCount() {
        catchUp.applied(0, 5);
        catchUp.readUpTo(Map.of(0, 2L), Map.of(0, 6L));
        assertTrue(catchUp.done().isDone());
    }

    @Test
    void nothingIsDoneWithoutAGoal() {
        catchUp.applied(0, 100);
        assertFalse(catchUp.done().isDone());
    }
}
