package io.ternstream.service.session;

import io.ternstream.engine.Engine;
import io.ternstream.schemas.CancelCommand;
import io.ternstream.schemas.DeleteCommand;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.ForkCommand;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.ResetCommand;
import io.ternstream.schemas.SessionImport;
import io.ternstream.schemas.TurnCompleteEvent;
import io.ternstream.schemas.Usage;
import io.ternstream.service.config.ServiceConfig;
import io.ternstream.service.ops.ServiceMetrics;
import io.ternstream.service.ops.Tracing;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * The semantics of sessions, free of Kafka: takes decoded work and ticks, and answers with
 * {@link Effects}. A session's work is applied one item at a time in offset order (a prompt runs
 * to its end before the next item starts); a cancel acts at once. Every applied item ends in a reply
 * (a turn's events, an ack or an error) and, where it changed the session, a save of its record;
 * then its offset is reported done. Single-threaded.
 */
public final class SessionCore {
    private static final Logger LOG = Logger.getLogger(SessionCore.class);

    private final Engine engine;
    private final ServiceConfig.Scheduler settings;
    private final Effects effects;
    private final ServiceMetrics metrics;
    private final SessionLoader loader;
    private final TurnFactory turns;
    private final Generator generator;
    private final Outcomes outcomes;
    private final Controls controls;
    private final LongSupplier clock;
    private final Map<String, LiveSession> sessions = new HashMap<>();
    private final Set<LiveSession> busy = new LinkedHashSet<>();

    public SessionCore(Engine engine, ServiceConfig.Scheduler settings, ServiceConfig.Generation defaults, Effects effects,
                       SessionRecordCodec records, ServiceMetrics metrics, Tracing tracing, LongSupplier clockMillis) {
        String fingerprint = engine.fingerprint();
        this.engine = engine;
        this.settings = settings;
        this.effects = effects;
        this.metrics = metrics;
        this.loader = new SessionLoader(records, fingerprint);
        this.turns = new TurnFactory(defaults, engine, tracing);
        this.outcomes = new Outcomes(effects, metrics, fingerprint, clockMillis);
        this.controls = new Controls(effects, outcomes, metrics, fingerprint);
        this.generator = new Generator(engine, settings.prefillChunkTokens(), metrics, new TurnEvents(outcomes, metrics));
        this.clock = clockMillis;
    }

    /**
     * New work for a session. stored is the session's store value when the work was read (null: none);
     * it is used only if the session is not in memory. resumeSeq &gt; 0 redoes a turn whose events
     * below it were delivered before a crash.
     */
    public void submit(Work work, byte[] stored, int resumeSeq) {
        LiveSession session = sessions.get(work.sessionId());
        if (session == null) {
            session = loader.load(work.sessionId(), work.partition(), stored, clock.getAsLong());
            sessions.put(session.id, session);
        }
        if (work.message() instanceof CancelCommand cancel) {
            controls.cancel(session, work, cancel); // acts now, not in the session's order: the turn to stop is running
        } else {
            session.queue.addLast(resumeSeq > 0 ? work.resumingAt(resumeSeq) : work);
            busy.add(session);
        }
        evictIfIdle(session);
    }

    /** The store confirmed a save of this session: it may leave memory once idle. */
    public void written(String sessionId) {
        LiveSession session = sessions.get(sessionId);
        if (session != null) {
            session.unwrittenSaves--;
            evictIfIdle(session);
        }
    }

    /** The partition moved away: its sessions and running turns are dropped; the new owner redoes their work. */
    public void dropPartition(int partition) {
        for (Iterator<LiveSession> it = sessions.values().iterator(); it.hasNext(); ) {
            LiveSession s = it.next();
            if (s.partition == partition) {
                if (s.running != null) {
                    generator.abandon(s.running);
                }
                busy.remove(s);
                it.remove();
            }
        }
    }

    /** These stored sessions were idle past the TTL when read: each is removed unless it has work now. */
    public void expire(int partition, List<String> sessionIds) {
        for (String id : sessionIds) {
            if (!sessions.containsKey(id)) {
                effects.remove(partition, id);
                LOG.debugf("session %s expired", id);
            }
        }
    }

    public boolean hasWork() {
        return !busy.isEmpty();
    }

    /** Sessions in memory: those with work, and those whose last save is not yet confirmed written. */
    public int held() {
        return sessions.size();
    }

    /** Starts queued work where a session is free, then one prefill chunk and one batched step. */
    public void tick() {
        startWork();
        generator.tick();
        metrics.activeSessions.set(busy.size());
        metrics.runningTurns.set(generator.running());
        metrics.heldSessions.set(sessions.size());
    }

    public Duration ttl() {
        return settings.sessionTtl();
    }

    private void startWork() {
        for (Iterator<LiveSession> it = busy.iterator(); it.hasNext(); ) {
            LiveSession session = it.next();
            while (session.running == null && !session.queue.isEmpty() && generator.running() < settings.maxBatch()) {
                apply(session, session.queue.pollFirst());
            }
            if (!session.busy()) {
                it.remove();
                evictIfIdle(session);
            }
        }
    }

    private void apply(LiveSession session, Work work) {
        // a fork's answer comes from the target's owner, so the source cannot repeat it
        ReplyEvent earlier = work.message() instanceof ForkCommand ? null : session.record.answerOf(work.requestId());
        if (session.record.applied(work.offset())) {
            replayed(session, work, earlier);
            return;
        }
        if (earlier != null) {
            metrics.duplicate(); // a retry, or a record delivered again after a crash: the same answer again
            outcomes.reply(work, earlier);
            return;
        }
        if (session.lostReason != null && !(work.message() instanceof ResetCommand || work.message() instanceof DeleteCommand)) {
            controls.stateLost(session, work);
            return;
        }
        switch (work.message()) {
            case PromptRequest r when session.cancelledQueued.remove(r.requestId()) -> {
                metrics.turnCompleted(FinishReason.CANCELLED);
                outcomes.answer(session, work, new TurnCompleteEvent(r.sessionId(), r.requestId(), 0, null,
                        FinishReason.CANCELLED, new Usage(0, 0, 0, 0)));
            }
            case PromptRequest r -> startTurn(session, work);
            case ResetCommand r -> controls.reset(session, work);
            case DeleteCommand d -> controls.delete(session, work);
            case ForkCommand f -> controls.fork(session, work, f);
            case SessionImport i -> controls.importState(session, work, i);
            case CancelCommand c -> throw new IllegalStateException("cancel is never queued");
        }
    }

    /**
     * The record already reflects this command: a stale copy (a record consumed again after its
     * offset was applied, or work left in a pending store restored from a copy that missed the end of
     * it). It is not applied again; its answer is repeated where the record still knows it.
     */
    private void replayed(LiveSession session, Work work, ReplyEvent earlier) {
        metrics.duplicate();
        if (earlier != null) {
            outcomes.reply(work, earlier);
        } else {
            LOG.warnf("session %s: %s at offset %d is older than the stored record (offset %d); not applied again",
                    session.id, work.requestId(), work.offset(), session.record.appliedOffset());
            outcomes.skip(work);
        }
    }

    private void startTurn(LiveSession session, Work work) {
        SessionRecord r = session.record;
        if (r.deleted()) { // a prompt to a deleted session starts a new conversation
            session.record = outcomes.withState(r, null, 0, false);
        }
        try {
            session.state = session.record.state() == null ? engine.newState() : engine.decodeState(session.record.state());
        } catch (RuntimeException e) {
            session.lostReason = "the stored state is unreadable: " + e.getMessage();
            controls.stateLost(session, work);
            return;
        }
        Turn turn = turns.create(session, work);
        session.running = turn;
        generator.add(turn);
    }

    private void evictIfIdle(LiveSession session) {
        if (session.evictable() && sessions.get(session.id) == session) {
            sessions.remove(session.id);
        }
    }
}
