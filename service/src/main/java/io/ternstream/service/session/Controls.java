package io.ternstream.service.session;

import io.ternstream.schemas.CancelCommand;
import io.ternstream.schemas.ControlAckEvent;
import io.ternstream.schemas.ErrorCode;
import io.ternstream.schemas.ErrorEvent;
import io.ternstream.schemas.ForkCommand;
import io.ternstream.schemas.SessionImport;
import io.ternstream.service.ops.ServiceMetrics;
import org.jboss.logging.Logger;

/**
 * The control commands: cancel (at once), and reset, delete, fork and import in the session's
 * order. A fork is two steps because the target may live on another partition: the source's owner
 * sends the copied state as an import keyed by the target, whose owner applies it in the target's
 * order and acknowledges the fork to the source's stream.
 */
final class Controls {
    private static final Logger LOG = Logger.getLogger(Controls.class);

    private final Effects effects;
    private final Outcomes outcomes;
    private final ServiceMetrics metrics;
    private final String fingerprint;

    Controls(Effects effects, Outcomes outcomes, ServiceMetrics metrics, String fingerprint) {
        this.effects = effects;
        this.outcomes = outcomes;
        this.metrics = metrics;
        this.fingerprint = fingerprint;
    }

    void cancel(LiveSession session, Work work, CancelCommand c) {
        if (!session.record.exists() && !session.busy() && session.lostReason == null) {
            outcomes.refuse(work, ErrorCode.UNKNOWN_SESSION, "no session '" + c.sessionId() + "'");
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
        outcomes.reply(work, Outcomes.ack(work, "cancel", found,
                found ? "cancelling " + target : "no running or queued request" + (target == null ? "" : " " + target)));
    }

    void reset(LiveSession session, Work work) {
        if (requireExisting(session, work)) {
            session.lostReason = null;
            session.record = outcomes.withState(session.record, null, session.record.turnCount(), false);
            outcomes.answer(session, work, Outcomes.ack(work, "reset", true, "session state emptied"));
        }
    }

    void delete(LiveSession session, Work work) {
        if (requireExisting(session, work)) {
            session.lostReason = null;
            session.record = outcomes.withState(session.record, null, 0, true);
            outcomes.answer(session, work, Outcomes.ack(work, "delete", true, "session deleted"));
        }
    }

    void fork(LiveSession session, Work work, ForkCommand f) {
        if (!requireExisting(session, work)) {
            return;
        }
        if (f.targetSessionId().equals(session.id)) {
            outcomes.refuse(work, ErrorCode.INVALID_PARAMETERS, "a session cannot be forked into itself");
            return;
        }
        byte[] state = session.record.state() == null ? new byte[0] : session.record.state();
        effects.importInto(work.partition(), new SessionImport(f.targetSessionId(), f.requestId(), session.id, fingerprint,
                state, session.record.turnCount()), work.trace());
        effects.done(work.partition(), work.offset());
    }

    void importState(LiveSession target, Work work, SessionImport i) {
        if (target.record.exists()) {
            outcomes.reply(work, new ControlAckEvent(i.sourceSessionId(), i.requestId(), 0, "fork", false,
                    "target session " + target.id + " already exists"));
        } else if (!fingerprint.equals(i.fingerprint())) {
            outcomes.reply(work, new ControlAckEvent(i.sourceSessionId(), i.requestId(), 0, "fork", false,
                    "the state was made by another model"));
        } else {
            target.lostReason = null;
            target.record = outcomes.withState(target.record, i.state().length == 0 ? null : i.state(), i.turnCount(), false);
            outcomes.answer(target, work, new ControlAckEvent(i.sourceSessionId(), i.requestId(), 0, "fork", true,
                    "forked into " + target.id));
        }
    }

    /** The session's stored context could not be used: this request is told, and the session starts over empty. */
    void stateLost(LiveSession session, Work work) {
        metrics.stateLost();
        LOG.errorf("session %s: %s; request %s is refused and the session starts over empty", session.id,
                session.lostReason, work.requestId());
        String reason = session.lostReason;
        session.lostReason = null;
        session.record = outcomes.empty(session.id);
        outcomes.answer(session, work, new ErrorEvent(session.id, work.requestId(), 0, ErrorCode.STATE_LOST,
                "the session's context was lost (" + reason + "); it now starts empty: send the conversation again"));
    }

    private boolean requireExisting(LiveSession session, Work work) {
        if (session.record.exists() || session.lostReason != null) {
            return true;
        }
        outcomes.refuse(work, ErrorCode.UNKNOWN_SESSION, "no session '" + session.id + "'");
        return false;
    }
}
