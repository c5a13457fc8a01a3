package io.ternstream.service.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FinishedWorkTest {
    private static final long MS = 1_000_000;

    @Test
    void aFinishedRecordIsDeletedOnlyAfterTheDelayInFinishingOrder() {
        FinishedWork work = new FinishedWork(Duration.ofSeconds(1));
        List<Long> deleted = new ArrayList<>();
        work.add(7, 0);
        work.add(9, 400 * MS);
        work.release(999 * MS, deleted::add);
        assertEquals(List.of(), deleted, "not before the delay");
        work.release(1_000 * MS, deleted::add);
        assertEquals(List.of(7L), deleted);
        work.release(1_400 * MS, deleted::add);
        assertEquals(List.of(7L, 9L), deleted);
        assertEquals(0, work.held());
    }

    @Test
    void theDelayIsTenCommitIntervalsAtLeastASecondAndNoneUnderExactlyOnce() {
        assertEquals(Duration.ofSeconds(1), FinishedWork.delay(false, Duration.ofMillis(100)));
        assertEquals(Duration.ofSeconds(5), FinishedWork.delay(false, Duration.ofMillis(500)));
        assertEquals(Duration.ZERO, FinishedWork.delay(true, Duration.ofMillis(100)));
    }
}
