package io.ternstream.engine.parallel;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every part runs exactly once per call, across many back-to-back calls; failures reach the caller. */
class WorkerPoolTest {

    @Test
    void everyPartRunsExactlyOncePerCall() {
        for (int threads : new int[] {1, 2, 3}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                for (int call = 0; call < 20_000; call++) {
                    int parts = 1 + call % 37;
                    AtomicIntegerArray runs = new AtomicIntegerArray(parts);
                    pool.run((part, n) -> {
                        assertEquals(parts, n);
                        runs.incrementAndGet(part);
                    }, parts);
                    for (int p = 0; p < parts; p++) assertEquals(1, runs.get(p), "threads " + threads + " call " + call + " part " + p);
                }
            }
        }
    }

    @Test
    void aFailingPartIsRethrownAndThePoolStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> pool.run((part, n) -> {
                if (part == 3) throw boom;
            }, 8));
            assertSame(boom, thrown);
            AtomicIntegerArray runs = new AtomicIntegerArray(16);
            pool.run((part, n) -> runs.incrementAndGet(part));
            for (int p = 0; p < 16; p++) assertEquals(1, runs.get(p));
        }
    }

    @Test
    void splitCoversTheRangeInOrder() {
        assertEquals(0, WorkerPool.split(10, 0, 3));
        assertEquals(3, WorkerPool.split(10, 1, 3));
        assertEquals(6, WorkerPool.split(10, 2, 3));
        assertEquals(10, WorkerPool.split(10, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0));
    }
}
