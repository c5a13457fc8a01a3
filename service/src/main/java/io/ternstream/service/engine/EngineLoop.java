package io.ternstream.service.engine;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.SessionImport;
import io.ternstream.service.session.Effects;
import io.ternstream.service.session.SessionCore;
import io.ternstream.service.session.SessionRecord;
import io.ternstream.service.session.Work;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * The engine thread: owns the session core, so every session of every partition of this instance
 * advances in the same batched step. The Kafka thread talks to it through one FIFO inbox (work,
 * write confirmations, partitions arriving and leaving) and collects its effects from one outbox per
 * partition. FIFO matters: a session's work sent after its record was written finds the record
 * written, and a partition that leaves and comes back never receives the effects of its old turns.
 */
public final class EngineLoop implements Effects {
    private static final Logger LOG = Logger.getLogger(EngineLoop.class);
    private static final long IDLE_WAIT_MILLIS = 50;

    private final BlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Engine-thread confined: the outbox of each partition this instance holds. */
    private final Map<Integer, Outbox> outboxes = new HashMap<>();
    /** Engine-thread confined: effects of the current tick, per partition. */
    private final Map<Integer, List<Outgoing>> tick = new HashMap<>();
    private SessionCore core;
    private Thread thread;
    private volatile boolean running = true;
    private volatile boolean accepting = true;
    private volatile boolean busy;
    private final AtomicInteger waitingBatches = new AtomicInteger();

    /** The core is built by the caller with this loop as its {@link Effects}. */
    public void start(Function<Effects, SessionCore> coreFactory) {
        core = coreFactory.apply(this);
        thread = Thread.ofPlatform().name("ternstream-engine").start(this::run);
    }

    public boolean alive() {
        return thread != null && thread.isAlive();
    }

    /** Nothing to do and nothing waiting to be applied: the Kafka thread may wait long for records. */
    boolean quiet() {
        return !busy && inbox.isEmpty() && waitingBatches.get() == 0;
    }

    /** Whether new work is taken (false while draining for shutdown: it stays pending for the next owner). */
    public boolean accepting() {
        return accepting;
    }

    /** Takes no new work; returns once the running work is finished or the timeout passes. */
    public boolean drain(long timeoutMillis) throws InterruptedException {
        accepting = false;
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while ((busy || !inbox.isEmpty()) && System.currentTimeMillis() < deadline) {
            Thread.sleep(10); // a shutdown-time wait, polled: the loop has no completion signal of its own
        }
        return !busy;
    }

    public void stop() throws InterruptedException {
        running = false;
        stopped.await(10, TimeUnit.SECONDS);
    }

    // ---- called from the Kafka thread ----

    Outbox register(int partition) {
        Outbox outbox = new Outbox(waitingBatches);
        inbox.add(() -> outboxes.put(partition, outbox));
        return outbox;
    }

    void unregister(int partition, Outbox outbox) {
        inbox.add(() -> {
            core.dropPartition(partition);
            outboxes.remove(partition, outbox);
            outbox.discard();
        });
    }

    void submit(Work work, byte[] stored, int resumeSeq) {
        inbox.add(() -> core.submit(work, stored, resumeSeq));
    }

    void written(String sessionId) {
        inbox.add(() -> core.written(sessionId));
    }

    void expire(int partition, List<String> sessionIds) {
        inbox.add(() -> core.expire(partition, sessionIds));
    }

    // ---- the engine thread ----

    private void run() {
        try {
            while (running) {
                Runnable message = core.hasWork() ? inbox.poll() : inbox.poll(IDLE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
                if (message != null) {
                    busy = true; // before the inbox looks empty: the Kafka thread must not start a long wait now
                }
                while (message != null) {
                    message.run();
                    message = inbox.poll();
                }
                if (core.hasWork()) {
                    core.tick();
                }
                publish(); // counted as waiting before busy may turn false
                busy = core.hasWork();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            LOG.error("engine loop stopped by an unexpected error; the instance is no longer live", t);
        } finally {
            busy = false;
            stopped.countDown();
        }
    }

    private void publish() {
        if (tick.isEmpty()) {
            return;
        }
        tick.forEach((partition, effects) -> {
            Outbox outbox = outboxes.get(partition);
            if (outbox != null) {
                outbox.add(effects);
            }
        });
        tick.clear();
    }

    private void add(int partition, Outgoing effect) {
        tick.computeIfAbsent(partition, p -> new ArrayList<>()).add(effect);
    }

    @Override
    public void reply(int partition, String replyTopic, ReplyEvent event, Span span) {
        add(partition, new Outgoing.Reply(replyTopic, event, span));
    }

    @Override
    public void save(int partition, SessionRecord record) {
        add(partition, new Outgoing.Save(record));
    }

    @Override
    public void remove(int partition, String sessionId) {
        add(partition, new Outgoing.Remove(sessionId));
    }

    @Override
    public void done(int partition, long offset) {
        add(partition, new Outgoing.Done(offset));
    }

    @Override
    public void progress(int partition, long offset, int nextSeq) {
        add(partition, new Outgoing.Progress(offset, nextSeq));
    }

    @Override
    public void deadLetter(int partition, long offset, ErrorCode code, String reason) {
        add(partition, new Outgoing.DeadLetter(offset, code, reason));
    }

    @Override
    public void importInto(int partition, SessionImport message, Context trace) {
        add(partition, new Outgoing.Import(message, trace));
    }
}
