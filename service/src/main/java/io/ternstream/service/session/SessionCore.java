package io.ternstream.service.session;

import io.ternstream.engine.Engine;
import io.ternstream.engine.state.SessionState;
import io.ternstream.schemas.CancelCommand;
import io.ternstream.schemas.ControlAckEvent;
import io.ternstream.schemas.DeleteCommand;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.ForkCommand;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.ResetCommand;
import io.ternstream.schemas.SessionImport;
import io.ternstream.schemas.TokenEvent;
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
import org.jboss.logging.MDC;

/**
 * The semantics of sessions, free of Kafka: takes decoded work and ticks, and answers with
 * {@link Effects}. A session's work is applied one item at a time in offset order (a prompt runs
 * to its end before the next item starts); a cancel acts at once. Every applied item ends in a reply
 * (a turn's events, an ack or an error) and, where it changed the session, a save of its record;
 * then its offset is reported done. Single-threaded.
 */
public final class SessionCore implements Generator.Listener {
    private static final Logger LOG = Logger.getLogger(SessionCore.class);

    private final Engine engine;
    private final String fingerprint;
    private final ServiceConfig.Scheduler settings;
    private final Effects effects;
    private final ServiceMetrics metrics;
    private final SessionLoader loader;
    private final TurnFactory turns;
    private final Generator generator;
    private final LongSupplier clock;
    private final Map<String, LiveSession> sessions = new HashMap<>();
    private final Set<LiveSession> busy = new LinkedHashSet<>();

    public SessionCore(Engine engine, ServiceConfig.Scheduler settings, ServiceConfig.Generation defaults, Effects effects,
                       SessionRecordCodec records, ServiceMetrics metrics, Tracing tracing, LongSupplier clockMillis) {
        this.engine = engine;
        this.fingerprint = engine.fingerprint();
        this.settings = settings;
        this.effects = effects;
        this.metrics = metrics;
        this.loader = new SessionLoader(records, fingerprint);
        this.turns = new TurnFactory(defaults, engine, tracing);
        this.generator = new Generator(engine, settings.prefillChunkTokens(), metrics, this);
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
            cancel(session, work, cancel); // acts now, not in the session's order: the turn to stop is running
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
        ReplyEvent earlier = work.message() instanceof ForkCommand ? null : session.record.answerOf(work.requestId());
        if (earlier != null) {
            metrics.duplicate(); // a retry, or a record delivered again after a crash: the same answer again
            effects.reply(work.partition(), replyTopic(work), earlier, null);
            effects.done(work.partition(), work.offset());
            return;
        }
        if (session.lostReason != null && !(work.message() instanceof ResetCommand || work.message() instanceof DeleteCommand)) {
            stateLost(session, work);
            return;
        }
        switch (work.message()) {
            case PromptRequest r when session.cancelledQueued.remove(r.requestId()) -> {
                metrics.turnCompleted(FinishReason.CANCELLED);
                answer(session, work, new TurnCompleteEvent(r.sessionId(), r.requestId(), 0, null, FinishReason.CANCELLED,
                        new Usage(0, 0, 0, 0)));
            }
            case PromptRequest r -> startTurn(session, work);
            case ResetCommand r -> {
                if (requireExisting(session, work)) {
                    session.lostReason = null;
                    session.record = withState(session.record, null, session.record.turnCount(), false);
                    answer(session, work, ack(work, "reset", true, "session state emptied"));
                }
            }
            case DeleteCommand d -> {
                if (requireExisting(session, work)) {
                    session.lostReason = null;
                    session.record = withState(session.record, null, 0, true);
                    answer(session, work, ack(work, "delete", true, "session deleted"));
                }
            }
            case ForkCommand f -> fork(session, work, f);
            case SessionImport i -> importState(session, work, i);
            case CancelCommand c -> throw new IllegalStateException("cancel is never queued");
        }
    }

    private void cancel(LiveSession session, Work work, CancelCommand c) {
        if (!session.record.exists() && !session.busy() && session.lostReason == null) {
            refuse(work, ErrorCode.UNKNOWN_SESSION, "no session '" + c.sessionId() + "'");
            return;
        }
        String target = c.targetRequestId();
        boolean found = false;
        Turn running = session.running;
        if (running != null && (target == null || running.request.requestId().equals(target))) {
            running.cancelRequested = true;
            target = running.request.requestId();
            found = true;
        } else if (target != null && session.inFlight(target)) {
            session.cancelledQueued.add(target);
            found = true;
        }
        effects.reply(work.partition(), null, ack(work, "cancel", found,
                found ? "cancelling " + target : "no running or queued request" + (target == null ? "" : " " + target)), null);
        effects.done(work.partition(), work.offset());
    }

    private void startTurn(LiveSession session, Work work) {
        SessionRecord r = session.record;
        if (r.deleted()) { // a prompt to a deleted session starts a new conversation
            session.record = withState(r, null, 0, false);
        }
        try {
            session.state = session.record.state() == null ? engine.newState() : engine.decodeState(session.record.state());
        } catch (RuntimeException e) {
            session.lostReason = "the stored state is unreadable: " + e.getMessage();
            stateLost(session, work);
            return;
        }
        Turn turn = turns.create(session, work, work.resumeSeq());
        session.running = turn;
        generator.add(turn);
    }

    private void stateLost(LiveSession session, Work work) {
        metrics.stateLost();
        LOG.errorf("session %s: %s; request %s is refused and the session starts over empty", session.id,
                session.lostReason, work.requestId());
        String reason = session.lostReason;
        session.lostReason = null;
        session.record = SessionRecord.empty(session.id, fingerprint, clock.getAsLong());
        answer(session, work, new ErrorEvent(session.id, work.requestId(), 0, ErrorCode.STATE_LOST,
                "the session's context was lost (" + reason + "); it now starts empty: send the conversation again"));
    }

    private void fork(LiveSession session, Work work, ForkCommand f) {
        if (!requireExisting(session, work)) {
            return;
        }
        if (f.targetSessionId().equals(session.id)) {
            refuse(work, ErrorCode.INVALID_PARAMETERS, "a session cannot be forked into itself");
            return;
        }
        byte[] state = session.record.state() == null ? new byte[0] : session.record.state();
        // keyed by the target: its owner applies the copy in the target session's order and acknowledges
        effects.importInto(work.partition(), new SessionImport(f.targetSessionId(), f.requestId(), session.id, fingerprint,
                state, session.record.turnCount()), work.trace());
        effects.done(work.partition(), work.offset());
    }

    private void importState(LiveSession target, Work work, SessionImport i) {
        if (target.record.exists()) {
            reply(work, new ControlAckEvent(i.sourceSessionId(), i.requestId(), 0, "fork", false,
                    "target session " + target.id + " already exists"));
            return;
        }
        if (!fingerprint.equals(i.fingerprint())) {
            reply(work, new ControlAckEvent(i.sourceSessionId(), i.requestId(), 0, "fork", false,
                    "the state was made by another model"));
            return;
        }
        target.lostReason = null;
        target.record = withState(target.record, i.state().length == 0 ? null : i.state(), i.turnCount(), false);
        answer(target, work, new ControlAckEvent(i.sourceSessionId(), i.requestId(), 0, "fork", true, "forked into " + target.id));
    }

    // ---- turns ----

    @Override
    public void token(Turn turn, TokenEvent event) {
        emit(turn, event);
    }

    @Override
    public void finished(Turn turn) {
        LiveSession session = turn.session;
        String text = "";
        if (turn.finish != FinishReason.STOP) {
            text = turn.heldText + (turn.detokenizer != null ? turn.detokenizer.flush() : "");
        }
        double ttftMs = turn.generated == 0 ? 0 : (turn.firstTokenNanos - turn.work.receivedNanos()) / 1e6;
        double seconds = (turn.lastTokenNanos - turn.firstTokenNanos) / 1e9;
        double tps = turn.generated > 1 && seconds > 0 ? (turn.generated - 1) / seconds : 0;
        var complete = new TurnCompleteEvent(turn.request.sessionId(), turn.request.requestId(), turn.seq++,
                text.isEmpty() ? null : text, turn.finish, new Usage(turn.prompt.length, turn.generated, ttftMs, tps));
        emit(turn, complete);
        session.running = null;
        session.record = withState(session.record, session.state.toBytes(), session.record.turnCount() + 1, false);
        session.state = null;
        metrics.turnCompleted(turn.finish);
        turn.span.end();
        MDC.put("sessionId", session.id);
        MDC.put("requestId", turn.request.requestId());
        LOG.infof("turn complete: %s, %d prompt + %d generated tokens, ttft %.1f ms", turn.finish.json(),
                turn.prompt.length, turn.generated, ttftMs);
        MDC.remove("sessionId");
        MDC.remove("requestId");
        remember(session, turn.work, complete);
    }

    private void emit(Turn turn, ReplyEvent event) {
        if (event.seq() >= turn.resumeSeq) {
            effects.reply(turn.work.partition(), turn.request.replyTo(), event, turn.span);
            effects.progress(turn.work.partition(), turn.work.offset(), event.seq() + 1);
        }
    }

    // ---- answers and records ----

    private boolean requireExisting(LiveSession session, Work work) {
        if (session.record.exists() || session.lostReason != null) {
            return true;
        }
        refuse(work, ErrorCode.UNKNOWN_SESSION, "no session '" + session.id + "'");
        return false;
    }

    /** The session refused the work: an error to the client, the record to the dead letters. */
    private void refuse(Work work, ErrorCode code, String reason) {
        metrics.rejected(code);
        effects.reply(work.partition(), null, new ErrorEvent(work.sessionId(), work.requestId(), 0, code, reason), null);
        effects.deadLetter(work.partition(), work.offset(), code, reason);
        effects.done(work.partition(), work.offset());
    }

    /** A reply that changes nothing in the session. */
    private void reply(Work work, ReplyEvent event) {
        effects.reply(work.partition(), null, event, null);
        effects.done(work.partition(), work.offset());
    }

    /** The work changed the session and is answered with this event. */
    private void answer(LiveSession session, Work work, ReplyEvent event) {
        effects.reply(work.partition(), replyTopic(work), event, null);
        remember(session, work, event);
    }

    /** Saves the record with the request's answer remembered, then reports the work done. */
    private void remember(LiveSession session, Work work, ReplyEvent last) {
        SessionRecord r = session.record;
        session.record = new SessionRecord(r.sessionId(), fingerprint, r.state(), r.turnCount(), clock.getAsLong(),
                r.deleted(), LiveSession.remember(r.answered(), new SessionRecord.Answered(work.requestId(), last)));
        session.unwrittenSaves++;
        effects.save(session.partition, session.record);
        effects.done(work.partition(), work.offset());
    }

    private SessionRecord withState(SessionRecord r, byte[] state, long turnCount, boolean deleted) {
        return new SessionRecord(r.sessionId(), fingerprint, state, turnCount, r.lastActiveMillis(), deleted, r.answered());
    }

    private static ControlAckEvent ack(Work work, String command, boolean ok, String detail) {
        return new ControlAckEvent(work.sessionId(), work.requestId(), 0, command, ok, detail);
    }

    private static String replyTopic(Work work) {
        return work.message() instanceof PromptRequest r ? r.replyTo() : null;
    }

    private void evictIfIdle(LiveSession session) {
        if (session.evictable() && sessions.get(session.id) == session) {
            sessions.remove(session.id);
        }
    }
}
