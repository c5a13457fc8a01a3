package io.ternstream.it;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One engine instance of a fleet, as an orchestrator keeps it: always the same name, state folder
 * and network route to the broker (its own {@link StallableProxy}); killed or stopped, it is started
 * again, and the new process restores its stores from the local checkpoint and the changelogs' tail.
 */
final class EngineSlot implements AutoCloseable {
    private static final int START_ATTEMPTS = 5;

    private final String name;
    private final AtomicInteger failures = new AtomicInteger();
    private final StallableProxy route;
    /** Starts the process of one incarnation, given its log name; returns when it is ready. */
    private final Function<String, ServiceProcess> launcher;
    private final InstanceMemory memory;
    private volatile ServiceProcess process;
    private volatile CompletableFuture<Void> restarting = CompletableFuture.completedFuture(null);
    private int incarnation;
    private volatile boolean closed;

    EngineSlot(String name, StallableProxy route, Function<String, ServiceProcess> launcher, InstanceMemory memory) {
        this.name = name;
        this.route = route;
        this.launcher = launcher;
        this.memory = memory;
    }

    String name() {
        return name;
    }

    /** Starts the first incarnation and waits until it is ready. */
    void start() {
        launch();
    }

    /**
     * Starts the next incarnation; a start that fails (the broker was away while it booted) is tried
     * again, as an orchestrator's restart policy would.
     */
    private synchronized void launch() {
        RuntimeException failure = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            incarnation++;
            String instance = name + "-" + incarnation;
            try {
                ServiceProcess started = launcher.apply(instance);
                if (closed) {
                    started.kill9(); // the test ended while it started
                    return;
                }
                memory.track(instance, started.pid());
                process = started;
                return;
            } catch (RuntimeException e) {
                failures.incrementAndGet();
                failure = failure == null ? e : failure;
            }
        }
        throw failure;
    }

    /** Starts that failed and were tried again. */
    int failedStarts() {
        return failures.get();
    }

    /** Running and not being replaced. */
    boolean up() {
        ServiceProcess p = process;
        return restarting.isDone() && p != null && p.alive();
    }

    ServiceProcess process() {
        return process;
    }

    /** SIGKILL, then a new incarnation in the background. */
    void kill9ThenRestart() {
        ServiceProcess victim = process;
        victim.kill9();
        memory.ended(victim.pid());
        restartInBackground();
    }

    /** SIGTERM (drain, commit, leave the group), then a new incarnation; returns once the old one exited. */
    void terminateThenRestart() {
        ServiceProcess leaving = process;
        leaving.close();
        memory.ended(leaving.pid());
        restartInBackground();
    }

    private void restartInBackground() {
        restarting = CompletableFuture.runAsync(this::launch, r -> Thread.ofVirtual().start(r));
    }

    /** Waits until a restart under way is done (ready). */
    void awaitUp(Duration atMost) {
        restarting.orTimeout(atMost.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    /** Cuts the instance off the broker for a while without closing its connections. */
    void stall(Duration duration) {
        route.stall(duration);
    }

    /** SIGSTOP now; SIGCONT after {@code duration}, longer than the group's session timeout. */
    CompletableFuture<Void> pause(Duration duration) {
        ServiceProcess paused = process;
        paused.pause();
        return CompletableFuture.runAsync(paused::resume,
                CompletableFuture.delayedExecutor(duration.toMillis(), TimeUnit.MILLISECONDS));
    }

    @Override
    public void close() {
        closed = true;
        restarting.orTimeout(120, TimeUnit.SECONDS).exceptionally(e -> null).join();
        ServiceProcess p = process;
        if (p != null) {
            p.kill9(); // the run is over: nothing to hand over
            memory.ended(p.pid());
        }
        route.close();
    }
}
