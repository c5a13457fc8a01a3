package io.ternstream.service.engine;

import java.time.Duration;
import java.util.function.DoubleSupplier;
import org.jboss.logging.Logger;

/**
 * Whether this instance may still write for its partitions. Kafka's group takes partitions from a
 * member whose heartbeats stop for the session timeout, but the member learns it only at its next
 * heartbeat response and poll; until then Kafka Streams would apply what the engine produced, and
 * those writes race the new owner's (at-least-once has no fencing at all; an exactly-once
 * transaction that holds no consumed offsets is not fenced either). The lease closes that window:
 * <ul>
 *   <li><b>held</b> while heartbeat responses keep arriving;</li>
 *   <li><b>suspended</b> when none arrived for the session timeout less one heartbeat interval (a
 *       network partition, a broker restart): nothing is applied until a response arrives and a
 *       later poll completes; a poll is where the consumer gives up partitions it lost, so by then
 *       this instance either still owns them or no longer runs their tasks;</li>
 *   <li><b>lost</b> once after the whole process stood still that long (SIGSTOP, a VM pause, a
 *       stop-the-world pause): the heartbeat thread stood still too, so the group has probably moved
 *       on, and whatever the open transaction holds is from before. The tasks are then closed as
 *       zombies (their transaction aborted) and the instance rejoins.</li>
 * </ul>
 * A watchdog thread ticks every {@link #TICK}, so a Kafka thread that was merely blocked (a slow
 * commit) is not taken for a standstill; each task asks before it writes, which ticks too, so a
 * standstill is noticed before the Kafka thread's next commit. The consumer reports its polls.
 * Time is in nanoseconds.
 */
final class GroupLease implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(GroupLease.class);
    static final Duration TICK = Duration.ofMillis(100);

    enum Standing { HELD, SUSPENDED, LOST }

    private final long expiryNanos;
    private DoubleSupplier heartbeats = () -> Double.NaN;
    private double lastCount = Double.NaN;
    private long lastResponse;
    private long lastTick;
    /** When the lease was suspended (0: held). */
    private long suspendedAt;
    /** When a heartbeat response arrived after the suspension (0: none yet). */
    private long renewedAt;
    private boolean stoodStill;
    private Thread watchdog;

    /** @param expiry how long without a heartbeat response the group may already have moved on */
    GroupLease(Duration expiry, long nowNanos) {
        this.expiryNanos = expiry.toNanos();
        this.lastResponse = nowNanos;
        this.lastTick = nowNanos;
    }

    /** Session timeout less one heartbeat interval. */
    static Duration expiry(Duration sessionTimeout, Duration heartbeatInterval) {
        return sessionTimeout.minus(heartbeatInterval);
    }

    /** Starts the watchdog thread; the time before (model load, warm-up) is no standstill. */
    GroupLease start() {
        synchronized (this) {
            lastTick = System.nanoTime();
            lastResponse = lastTick;
        }
        watchdog = Thread.ofPlatform().daemon().name("ternstream-group-lease").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                tick(System.nanoTime());
                try {
                    Thread.sleep(TICK);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        return this;
    }

    /** The count of heartbeat responses of the current main consumer (a replaced Kafka thread brings a new one). */
    synchronized void watch(DoubleSupplier heartbeatResponses) {
        heartbeats = heartbeatResponses;
        lastCount = Double.NaN;
    }

    /** One step: notices a standstill, new heartbeat responses, and silence past the expiry. */
    synchronized void tick(long now) {
        long sinceTick = now - lastTick;
        lastTick = now;
        if (sinceTick >= expiryNanos) {
            LOG.warnf("the process stood still for %d ms, past the group's expiry: its tasks are closed and it rejoins",
                    sinceTick / 1_000_000);
            stoodStill = true;
            suspend(now);
            return; // a response counted now may be the group's refusal: it does not renew
        }
        double count = heartbeats.getAsDouble();
        if (Double.isNaN(count)) {
            lastResponse = now; // no count to watch: only a standstill is noticed
        } else if (count != lastCount) {
            lastCount = count;
            lastResponse = now;
            if (suspendedAt != 0 && renewedAt == 0) {
                renewedAt = now;
            }
        } else if (now - lastResponse >= expiryNanos && suspendedAt == 0) {
            LOG.warnf("no heartbeat response for %d ms: nothing is written until the group answers again",
                    (now - lastResponse) / 1_000_000);
            suspend(now);
        }
    }

    /** The consumer completed a poll that started at pollStart: a renewal before that start is confirmed. */
    synchronized void polled(long pollStart) {
        if (suspendedAt != 0 && renewedAt != 0 && pollStart > renewedAt && !stoodStill) {
            LOG.info("heartbeats answered again: writing resumes");
            suspendedAt = 0;
            renewedAt = 0;
        }
    }

    /** How a task stands now. LOST is answered once per standstill: the first task to hear it closes them all. */
    synchronized Standing standing(long now) {
        tick(now);
        if (stoodStill) {
            stoodStill = false;
            return Standing.LOST;
        }
        return suspendedAt == 0 ? Standing.HELD : Standing.SUSPENDED;
    }

    private void suspend(long now) {
        suspendedAt = now;
        renewedAt = 0;
    }

    @Override
    public void close() {
        if (watchdog != null) {
            watchdog.interrupt();
        }
    }
}
