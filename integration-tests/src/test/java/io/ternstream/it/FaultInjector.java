package io.ternstream.it;

import java.time.Duration;
import java.util.List;

/**
 * Applies the soak's faults in rotation. kill -9 and SIGTERM go to the first two engines in turn (each
 * is started again at once); the stall and the pause rotate over all three. The third engine is thus
 * never restarted: its memory over the whole run shows whether faults leave anything behind.
 */
final class FaultInjector {
    /**
     * One injected fault: what, to whom, and its window: from the fault until its effect is over (a
     * killed engine noticed gone by the group, a stopped one exited, the broker serving again, the
     * stall or pause over).
     */
    record Fault(int number, FaultKind kind, String target, long startNanos, long endNanos) {}

    private static final Duration WAIT_FOR_A_TARGET = Duration.ofSeconds(180);

    private final List<EngineSlot> engines;
    private final KafkaServerProcess broker;
    private final Duration stall;
    private final Duration pause;
    private final Duration sessionTimeout;

    FaultInjector(List<EngineSlot> engines, KafkaServerProcess broker, Duration stall, Duration pause,
                  Duration sessionTimeout) {
        if (engines.size() != 3) {
            throw new IllegalArgumentException("the rotation is written for three engines");
        }
        this.engines = List.copyOf(engines);
        this.broker = broker;
        this.stall = stall;
        this.pause = pause;
        this.sessionTimeout = sessionTimeout;
    }

    Fault inject(int number) {
        FaultKind kind = FaultKind.rotation(number);
        int round = number / FaultKind.values().length;
        return switch (kind) {
            case KILL_9 -> {
                EngineSlot victim = upOrWait(engines.get(round % 2), engines.get((round + 1) % 2));
                long start = System.nanoTime();
                victim.kill9ThenRestart();
                // its partitions stay where they were until the group's session timeout says it is gone
                yield new Fault(number, kind, victim.name(), start, System.nanoTime() + sessionTimeout.toNanos());
            }
            case SIGTERM -> {
                EngineSlot victim = upOrWait(engines.get((round + 1) % 2), engines.get(round % 2));
                long start = System.nanoTime();
                victim.terminateThenRestart();
                yield new Fault(number, kind, victim.name(), start, System.nanoTime());
            }
            case BROKER_RESTART -> {
                long start = System.nanoTime();
                broker.restart();
                yield new Fault(number, kind, "broker", start, System.nanoTime());
            }
            case NETWORK_STALL -> {
                EngineSlot victim = firstUp(round % 3);
                long start = System.nanoTime();
                victim.stall(stall);
                yield new Fault(number, kind, victim.name(), start, start + stall.toNanos());
            }
            case PAUSE -> {
                EngineSlot victim = firstUp((round + 1) % 3);
                long start = System.nanoTime();
                victim.pause(pause);
                yield new Fault(number, kind, victim.name(), start, start + pause.toNanos());
            }
        };
    }

    /** The preferred engine if it is up, else the other one, else the preferred once its restart is done. */
    private static EngineSlot upOrWait(EngineSlot preferred, EngineSlot other) {
        if (preferred.up()) {
            return preferred;
        }
        if (other.up()) {
            return other;
        }
        preferred.awaitUp(WAIT_FOR_A_TARGET);
        return preferred;
    }

    private EngineSlot firstUp(int from) {
        for (int i = 0; i < engines.size(); i++) {
            EngineSlot slot = engines.get((from + i) % engines.size());
            if (slot.up()) {
                return slot;
            }
        }
        EngineSlot slot = engines.get(from);
        slot.awaitUp(WAIT_FOR_A_TARGET);
        return slot;
    }
}
