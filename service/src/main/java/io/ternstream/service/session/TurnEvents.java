package io.ternstream.service.session;

import io.ternstream.schemas.FinishReason;
import io.ternstream.schemas.ReplyEvent;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.schemas.TurnCompleteEvent;
import io.ternstream.schemas.Usage;
import io.ternstream.service.ops.ServiceMetrics;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * A turn's events on their way out: each token as it is sampled, then the complete event with the
 * usage, after which the session's new state is saved. Events of a turn redone after a crash are
 * computed again but sent only from where the first run's delivery stopped.
 */
final class TurnEvents implements Generator.Listener {
    private static final Logger LOG = Logger.getLogger(TurnEvents.class);

    private final Outcomes outcomes;
    private final ServiceMetrics metrics;

    TurnEvents(Outcomes outcomes, ServiceMetrics metrics) {
        this.outcomes = outcomes;
        this.metrics = metrics;
    }

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
        session.record = outcomes.withState(session.record, session.state.toBytes(), session.record.turnCount() + 1, false);
        session.state = null;
        metrics.turnCompleted(turn.finish);
        turn.span.end();
        MDC.put("sessionId", session.id);
        MDC.put("requestId", turn.request.requestId());
        LOG.infof("turn complete: %s, %d prompt + %d generated tokens, ttft %.1f ms", turn.finish.json(),
                turn.prompt.length, turn.generated, ttftMs);
        MDC.remove("sessionId");
        MDC.remove("requestId");
        outcomes.remember(session, turn.work, complete);
    }

    private void emit(Turn turn, ReplyEvent event) {
        outcomes.send(turn.work, turn.request.replyTo(), event, turn.span);
    }
}
