package io.ternstream.engine.parallel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool that runs one {@link Task} split into parts; the calling thread works too. Parts are
 * claimed dynamically, so a worker that the OS has not scheduled (a busy, shared machine) simply claims
 * nothing and the caller does the work, instead of the caller waiting for it at each of the few hundred
 * parallel sections of a decode step. Nothing is allocated per call: the task is a preallocated object,
 * the wake-up a generation counter, and a claim one compare-and-set on a word holding the section's
 * part count and next part. A claimer reads the task only after its claim succeeded: the section
 * cannot end, nor the task change, before that claimed part is done, so a late worker either claims a
 * part of the current section with the current task or nothing. Workers spin briefly before parking,
 * since a park/unpark per section would cost more than the work.
 */
public final class WorkerPool implements AutoCloseable {

    /** Work split into {@code parts} disjoint parts; {@code part} in [0, parts). */
    @FunctionalInterface
    public interface Task {
        void run(int part, int parts);
    }

    private static final long SPIN_NANOS = 200_000;
    /** Parts per thread by default: small enough to rebalance, large enough to keep claims rare. */
    private static final int PARTS_PER_THREAD = 8;

    private final int size;
    private final Thread[] workers;
    private final AtomicLong claims = new AtomicLong();  // parts << 32 | next unclaimed part
    private final AtomicInteger done = new AtomicInteger();
    private volatile Task task;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Throwable failure;

    public WorkerPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.size = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().daemon().name("ternstream-worker-" + (i + 1)).unstarted(this::workerLoop);
            workers[i].start();
        }
    }

    public int size() {
        return size;
    }

    /** Runs {@code t} in {@code size × 8} parts (one part with one thread) and returns when all are done. Not reentrant. */
    public void run(Task t) {
        run(t, workers.length == 0 ? 1 : size * PARTS_PER_THREAD);
    }

    /** Runs {@code t} in {@code parts} parts on all threads and returns when every part is done. Not reentrant. */
    public void run(Task t, int parts) {
        if (parts < 1) throw new IllegalArgumentException("parts must be >= 1, got " + parts);
        if (workers.length == 0) {
            for (int p = 0; p < parts; p++) t.run(p, parts);
            return;
        }
        task = t;
        done.set(0);
        claims.set((long) parts << 32); // publishes the task to claimers
        generation = generation + 1;    // wakes the workers
        for (Thread w : workers) LockSupport.unpark(w);
        work();
        while (done.get() < parts) Thread.onSpinWait();
        Throwable e = failure;
        if (e != null) {
            failure = null;
            if (e instanceof RuntimeException re) throw re;
            if (e instanceof Error err) throw err;
            throw new IllegalStateException(e);
        }
    }

    /** Claims and runs parts of the current section until none is left. */
    private void work() {
        while (true) {
            long v = claims.get();
            int p = (int) v, parts = (int) (v >>> 32);
            if (p >= parts) return;
            if (!claims.compareAndSet(v, v + 1)) continue;
            Task t = task; // the claimed part's section: it cannot end, nor change its task, before this part is done
            try {
                t.run(p, parts);
            } catch (Throwable e) {
                failure = e;
            } finally {
                done.incrementAndGet();
            }
        }
    }

    private void workerLoop() {
        long seen = 0;
        while (true) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 1_000_000);
            }
            if (closed) return;
            seen = generation;
            work();
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
