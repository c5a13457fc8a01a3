package io.ternstream.service.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ternstream.service.engine.GroupLease.Standing;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The lease driven with a fake clock and a fake count of heartbeat responses (no thread, no Kafka). */
class GroupLeaseTest {
    private static final long MS = 1_000_000;
    private static final Duration EXPIRY = Duration.ofMillis(3_200);

    private long now = 1_000 * MS;
    private double responses;
    private GroupLease lease;

    @BeforeEach
    void newLease() {
        lease = new GroupLease(EXPIRY, now);
        lease.watch(() -> responses);
    }

    @Test
    void heldWhileHeartbeatsAreAnswered() {
        for (int i = 0; i < 100; i++) {
            advance(800);
            responses++;
            assertEquals(Standing.HELD, lease.standing(now));
        }
    }

    @Test
    void silencePastTheExpirySuspendsUntilAResponseAndALaterPoll() {
        respondEvery(800, 5);
        idleFor(3_300);
        assertEquals(Standing.SUSPENDED, lease.standing(now), "no response for the session timeout less a heartbeat");

        long pollBeforeTheAnswer = now;
        advance(100);
        responses++;
        lease.tick(now);
        lease.polled(pollBeforeTheAnswer);
        assertEquals(Standing.SUSPENDED, lease.standing(now), "that poll may not have seen the group's answer");

        advance(1);
        long pollAfterTheAnswer = now;
        advance(1);
        lease.polled(pollAfterTheAnswer);
        assertEquals(Standing.HELD, lease.standing(now), "a poll that began after the answer has settled the assignment");
    }

    @Test
    void aStandstillOfTheWholeProcessIsLostOnceThenSuspendedUntilTheGroupAnswers() {
        respondEvery(800, 5);
        advance(6_000); // SIGSTOP: neither the watchdog nor the heartbeat thread ran
        responses++; // the first response after it (likely the group's refusal) is counted at once
        assertEquals(Standing.LOST, lease.standing(now));
        assertEquals(Standing.SUSPENDED, lease.standing(now), "lost is told once: the tasks it closes are gone");

        advance(100);
        lease.tick(now); // no new response yet
        advance(700);
        responses++;
        lease.tick(now);
        advance(1);
        long poll = now;
        lease.polled(poll + 1);
        assertEquals(Standing.HELD, lease.standing(now));
    }

    @Test
    void aBlockedKafkaThreadIsNoStandstillWhileTheWatchdogTicks() {
        for (int i = 0; i < 40; i++) { // 4 s in which only the watchdog runs, heartbeats answered
            advance(100);
            if (i % 8 == 0) {
                responses++;
            }
            lease.tick(now);
        }
        assertEquals(Standing.HELD, lease.standing(now));
    }

    @Test
    void withoutACountOnlyAStandstillIsNoticed() {
        lease.watch(() -> Double.NaN);
        idleFor(10_000);
        assertEquals(Standing.HELD, lease.standing(now), "silence cannot be told from a missing metric");
        advance(5_000);
        assertEquals(Standing.LOST, lease.standing(now));
    }

    @Test
    void theExpiryIsTheSessionTimeoutLessOneHeartbeat() {
        assertEquals(EXPIRY, GroupLease.expiry(Duration.ofSeconds(4), Duration.ofMillis(800)));
    }

    private void respondEvery(long ms, int times) {
        for (int i = 0; i < times; i++) {
            advance(ms);
            responses++;
            lease.tick(now);
        }
    }

    /** Time passes with the watchdog ticking and no response. */
    private void idleFor(long ms) {
        for (long t = 0; t < ms; t += 100) {
            advance(100);
            lease.tick(now);
        }
    }

    private void advance(long ms) {
        now += ms * MS;
    }
}
