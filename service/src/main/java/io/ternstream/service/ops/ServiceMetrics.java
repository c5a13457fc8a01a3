package io.ternstream.service.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.FinishReason;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The service's Prometheus metrics (/q/metrics), all named ternstream_*. */
public final class ServiceMetrics {
    private final Counter tokens;
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final DistributionSummary batchSize;
    private final Counter restoredStates;
    private final Counter duplicates;
    private final Counter statesLost;
    private final Map<ErrorCode, Counter> rejected = new EnumMap<>(ErrorCode.class);
    private final Map<FinishReason, Counter> turns = new EnumMap<>(FinishReason.class);
    public final AtomicInteger activeSessions = new AtomicInteger();
    public final AtomicInteger runningTurns = new AtomicInteger();
    public final AtomicInteger assignedPartitions = new AtomicInteger();
    public final AtomicInteger heldSessions = new AtomicInteger();

    public ServiceMetrics(MeterRegistry registry) {
        tokens = Counter.builder("ternstream.tokens.generated").description("tokens sampled and published")
                .register(registry);
        timeToFirstToken = Timer.builder("ternstream.time.to.first.token")
                .description("prompt record read to first token event sent").publishPercentiles(0.5, 0.9, 0.99)
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
        interTokenLatency = Timer.builder("ternstream.inter.token.latency")
                .description("time between consecutive token events of a turn").publishPercentiles(0.5, 0.9, 0.99)
                .minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        batchSize = DistributionSummary.builder("ternstream.batch.size")
                .description("sessions advanced by one batched engine step").register(registry);
        restoredStates = Counter.builder("ternstream.states.restored")
                .description("session-store records restored from changelogs (active and standby)").register(registry);
        duplicates = Counter.builder("ternstream.requests.duplicate")
                .description("requests already applied, answered again with their original last event").register(registry);
        statesLost = Counter.builder("ternstream.states.lost")
                .description("sessions whose stored context was unreadable or of another model (state_lost)")
                .register(registry);
        for (ErrorCode code : ErrorCode.values()) {
            rejected.put(code, Counter.builder("ternstream.records.rejected").tag("code", code.json())
                    .description("records sent to the dead-letter topic").register(registry));
        }
        for (FinishReason reason : FinishReason.values()) {
            turns.put(reason, Counter.builder("ternstream.turns.completed").tag("finish_reason", reason.json())
                    .register(registry));
        }
        registry.gauge("ternstream.sessions.active", activeSessions);
        registry.gauge("ternstream.turns.running", runningTurns);
        registry.gauge("ternstream.partitions.assigned", assignedPartitions);
        registry.gauge("ternstream.sessions.held", heldSessions);
    }

    public void token() {
        tokens.increment();
    }

    public void timeToFirstToken(long nanos) {
        timeToFirstToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void interTokenLatency(long nanos) {
        interTokenLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void batch(int size) {
        batchSize.record(size);
    }

    public void restored(long count) {
        restoredStates.increment(count);
    }

    public void duplicate() {
        duplicates.increment();
    }

    public void stateLost() {
        statesLost.increment();
    }

    public void rejected(ErrorCode code) {
        rejected.get(code).increment();
    }

    public void turnCompleted(FinishReason reason) {
        turns.get(reason).increment();
    }
}
