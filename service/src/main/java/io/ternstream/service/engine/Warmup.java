package io.ternstream.service.engine;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.ternstream.engine.Engine;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.sampling.SamplingParams;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tokenizer.StreamingDetokenizer;
import io.ternstream.engine.tokenizer.TextTokenizer;
import io.ternstream.schemas.GenerationParams;
import io.ternstream.schemas.MessageCodec;
import io.ternstream.schemas.PromptRequest;
import io.ternstream.schemas.TokenEvent;
import io.ternstream.service.ops.Tracing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import io.ternstream.service.session.CommandDecoder;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.jboss.logging.Logger;

/**
 * Runs the code a prompt's first token goes through — decoding and schema-checking the record,
 * prefill, sampling, detokenizing, building the token record — on made-up data before the first
 * record is read. Nothing is sent and no session is touched.
 *
 * <p>Why: a prompt record is decoded once per turn, so at a few prompts per second that path stays
 * in the interpreter for minutes; the schema check alone then costs about 1 ms instead of 0.05 ms,
 * on the engine thread, ahead of the first token (see docs/PERFORMANCE.md, "Service"). The engine
 * part gets the prefill path compiled before a user waits on it. Bounded by a time budget
 * ({@code ternstream.scheduler.warmup}; 0 turns it off).
 */
final class Warmup {
    private static final Logger LOG = Logger.getLogger(Warmup.class);
    /** Enough calls for the JIT's optimizing tier to compile the decode path (its threshold is thousands). */
    static final int MESSAGE_ROUNDS = 4000;
    static final int ENGINE_ROUNDS = 32;
    private static final int PROMPT_TOKENS = 16;
    private static final int STEPS = 8;
    private static final String TRACEPARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String TRACEPARENT_SPAN = "00f067aa0ba902b7";

    private Warmup() {}

    /** Returns how many message and engine rounds ran within the budget. */
    static int[] run(Engine engine, CommandDecoder decoder, ReplyRecords replies, MessageCodec codec, Duration budget) {
        if (budget.isZero() || budget.isNegative()) {
            return new int[] {0, 0};
        }
        long start = System.nanoTime();
        long messagesUntil = start + budget.toNanos() * 7 / 10; // the cheap, most-run part first
        long deadline = start + budget.toNanos();
        int vocab = engine.config().vocabSize();
        Span span = Span.wrap(SpanContext.create(TRACEPARENT_TRACE, TRACEPARENT_SPAN, TraceFlags.getSampled(),
                TraceState.getDefault()));
        int messages = 0;
        while (messages < MESSAGE_ROUNDS && System.nanoTime() < messagesUntil) {
            var prompt = PromptRequest.ofTokens("warmup-" + messages, "warmup", promptTokens(messages, vocab),
                    new GenerationParams(STEPS, null, null, null, null, null, null, null));
            Headers headers = new RecordHeaders();
            Tracing.inject(span, headers);
            if (!(decoder.decode(prompt.sessionId(), codec.encode(prompt), Tracing.extract(headers), 0, messages)
                    instanceof CommandDecoder.Accepted)) {
                LOG.debugf("warm-up prompt rejected; message path not warmed");
                break;
            }
            replies.replyRecord(new TokenEvent(prompt.sessionId(), prompt.requestId(), messages % 64, "warm",
                    List.of(messages % vocab)), span, 0);
            messages++;
        }
        int rounds = 0;
        while (rounds < ENGINE_ROUNDS && System.nanoTime() < deadline) {
            engineRound(engine, rounds, vocab);
            rounds++;
        }
        LOG.infof("warm-up: %d prompt records decoded, %d engine rounds (prefill %d tokens + %d steps) in %d ms",
                messages, rounds, PROMPT_TOKENS, STEPS, (System.nanoTime() - start) / 1_000_000);
        return new int[] {messages, rounds};
    }

    /** A prefill, sampled as a turn would be, then a few single steps and their detokenizing. */
    private static void engineRound(Engine engine, int round, int vocab) {
        SessionState state = engine.newState();
        Sampler sampler = new Sampler(new SamplingParams(0.7f, 0, 0.95f, 0f, 1f, round));
        StreamingDetokenizer detokenizer = engine.tokenizer().map(TextTokenizer::streaming).orElse(null);
        int[] prompt = promptTokens(round, vocab).stream().mapToInt(Integer::intValue).toArray();
        int token = sampler.sample(engine.prefill(state, prompt), null, 0);
        for (int i = 0; i < STEPS; i++) {
            if (detokenizer != null) {
                detokenizer.push(token);
            }
            token = sampler.sample(engine.step(state, token), null, 0);
        }
        if (detokenizer != null) {
            detokenizer.flush();
        }
        state.toBytes();
    }

    private static List<Integer> promptTokens(int seed, int vocab) {
        List<Integer> ids = new ArrayList<>(PROMPT_TOKENS);
        for (int i = 0; i < PROMPT_TOKENS; i++) {
            ids.add(Math.floorMod(seed * 31 + i * 7 + 3, vocab));
        }
        return ids;
    }
}
