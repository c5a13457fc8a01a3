package io.ternstream.engine.parallel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool that runs one {@link Task} split into as many parts as there are threads; the calling
 * thread runs part 0. Nothing is allocated per call: the task is a preallocated object and the hand-off
 * is a generation counter. Workers spin briefly before parking, since a decode step issues a few hundred
 * short parallel sections and a park/unpark per section would cost more than the work.
 */
public final class WorkerPool implements AutoCloseable {

    /** Work split into {@code parts} disjoint parts; {@code part} in [0, parts). */
    @FunctionalInterface
    public interface Task {
        void run(int part, int parts);
    }

    private static final long SPIN_NANOS = 200_000;

    private final int size;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Task task;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Throwable failure;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.size = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("ternstream-worker-" + part).unstarted(() -> workerLoop(part));
            workers[i].start();
        }
    }

    public int size() {
        return size;
    }

    /** Runs {@code t} on all threads and returns when every part is done. Not reentrant. */
    public void run(Task t) {
        if (workers.length == 0) {
            t.run(0, 1);
            return;
        }
        task = t;
        pending.set(workers.length);
        generation = generation + 1; // publishes task
        for (Thread w : workers) LockSupport.unpark(w);
        Throwable own = null;
        try {
            t.run(0, size);
        } catch (Throwable e) {
            own = e;
        }
        while (pending.get() != 0) Thread.onSpinWait();
        Throwable other = failure;
        if (own != null || other != null) {
            failure = null;
            Throwable e = own != null ? own : other;
            if (e instanceof RuntimeException re) throw re;
            if (e instanceof Error err) throw err;
            throw new IllegalStateException(e);
        }
    }

    private void workerLoop(int part) {
        long seen = 0;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 1_000_000);
            }
            if (closed) return;
            seen = generation;
            try {
                task.run(part, size);
            } catch (Throwable e) {
                failure = e;
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    /** Start (inclusive) of part {@code part} when {@code n} items are split into {@code parts}. */
    public static int split(int n, int part, int parts) {
        return (int) ((long) n * part / parts);
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
