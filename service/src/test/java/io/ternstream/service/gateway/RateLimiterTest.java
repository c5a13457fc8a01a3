package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
    @Test
    void burstThenSustainedRatePerCaller() {
        AtomicLong now = new AtomicLong();
        var limiter = new RateLimiter(2, 3, now::get);
        for (int i = 0; i < 3; i++) {
            assertTrue(limiter.tryAcquire("a"), "burst " + i);
        }
        assertFalse(limiter.tryAcquire("a"));
        assertTrue(limiter.tryAcquire("b"), "another caller has its own bucket");
        now.addAndGet(500_000_000); // half a second at 2/s: one more
        assertTrue(limiter.tryAcquire("a"));
        assertFalse(limiter.tryAcquire("a"));
        now.addAndGet(60_000_000_000L); // refills only up to the burst
        for (int i = 0; i < 3; i++) {
            assertTrue(limiter.tryAcquire("a"));
        }
        assertFalse(limiter.tryAcquire("a"));
    }

    @Test
    void nonsensicalSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(0, 1, System::nanoTime));
        assertThrows(IllegalArgumentException.class, () -> new RateLimiter(1, 0, System::nanoTime));
    }
}
