package io.ternstream.it;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * One user in a conversation: sends a turn, waits for its answer (or, past its patience, stops
 * waiting and goes on, leaving the turn to be answered later or counted lost), thinks a moment, sends
 * the next. A prompt the channel did not take is sent again with the same requestId.
 */
final class ChattingSession {
    private static final Duration RETRY_AFTER = Duration.ofSeconds(1);

    private final String id;
    private final PromptChannel channel;
    private final boolean viaGateway;
    private final TurnLedger ledger;
    private final int vocabSize;
    private final Duration think;
    private final Duration patience;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private int nextIndex;
    private volatile boolean stopping;
    private volatile boolean halted;

    ChattingSession(String id, PromptChannel channel, boolean viaGateway, TurnLedger ledger, int vocabSize,
                    Duration think, Duration patience) {
        this.id = id;
        this.channel = channel;
        this.viaGateway = viaGateway;
        this.ledger = ledger;
        this.vocabSize = vocabSize;
        this.think = think;
        this.patience = patience;
    }

    String id() {
        return id;
    }

    void start() {
        next();
    }

    /** Sends no new turn; completes when the current one is answered or past patience. */
    CompletableFuture<Void> stop() {
        stopping = true;
        return stopped;
    }

    /** Sends nothing more, not even a retry: the clients are closing. */
    void halt() {
        halted = true;
        stopping = true;
    }

    /** One more turn after {@link #stop()}: a probe that the session's partition still serves. */
    synchronized TurnLedger.Entry probe() {
        if (!stopped.isDone()) {
            throw new IllegalStateException("probe only a stopped session");
        }
        SoakTurn turn = SoakTurn.of(id, nextIndex++, vocabSize, viaGateway);
        TurnLedger.Entry entry = ledger.sending(turn);
        send(turn, entry, () -> { });
        return entry;
    }

    private synchronized void next() {
        if (stopping) {
            stopped.complete(null);
            return;
        }
        SoakTurn turn = SoakTurn.of(id, nextIndex++, vocabSize, viaGateway);
        send(turn, ledger.sending(turn), () -> later(think, this::next));
    }

    private void send(SoakTurn turn, TurnLedger.Entry entry, Runnable then) {
        if (halted) {
            return;
        }
        CompletableFuture<?> attempt = entry.attempt();
        CompletableFuture<Void> sent;
        try {
            sent = channel.send(turn.request());
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((ok, error) -> {
            if (error != null) {
                later(RETRY_AFTER, () -> send(turn, ledger.sending(turn), then));
                return;
            }
            attempt.orTimeout(patience.toMillis(), TimeUnit.MILLISECONDS).whenComplete((answer, failure) -> {
                Throwable cause = failure instanceof CompletionException c ? c.getCause() : failure;
                if (cause instanceof TurnLedger.Refused) {
                    later(RETRY_AFTER, () -> send(turn, ledger.sending(turn), then));
                } else {
                    then.run(); // answered, or past patience
                }
            });
        });
    }

    private static void later(Duration delay, Runnable action) {
        CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS).execute(action);
    }
}
