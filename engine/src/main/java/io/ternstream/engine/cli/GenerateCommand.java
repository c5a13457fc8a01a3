package io.ternstream.engine.cli;

import io.ternstream.engine.Engine;
import io.ternstream.engine.sampling.Sampler;
import io.ternstream.engine.sampling.SamplingParams;
import io.ternstream.engine.sampling.StopMatcher;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tokenizer.StreamingDetokenizer;
import io.ternstream.engine.tokenizer.TextTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;

/** Streams generated text to stdout as it is produced; timings go to stderr. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate text from a prompt, streaming it")
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "prompt text (needs tokenizer.json)")
    String prompt;

    @Option(names = "--tokens", paramLabel = "IDS", description = "prompt as token ids, e.g. 5,17,300 (models without a tokenizer)")
    String tokens;

    @Option(names = "--max-tokens", defaultValue = "128", description = "tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "0 = greedy (default ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-p", defaultValue = "0.95")
    float topP;

    @Option(names = "--top-k", defaultValue = "0", description = "0 = off")
    int topK;

    @Option(names = "--min-p", defaultValue = "0")
    float minP;

    @Option(names = "--repetition-penalty", defaultValue = "1.0")
    float repetitionPenalty;

    @Option(names = "--seed", description = "RNG seed (default: random)")
    Long seed;

    @Option(names = "--stop", description = "stop string (repeatable)")
    List<String> stops;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 1) throw new IllegalArgumentException("--max-tokens must be >= 1");
        if ((prompt == null) == (tokens == null)) throw new IllegalArgumentException("give exactly one of --prompt or --tokens");
        SamplingParams params = new SamplingParams(temperature, topK, topP, minP, repetitionPenalty,
                seed != null ? seed : System.nanoTime());
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (Engine engine = model.open()) {
            TextTokenizer tokenizer = engine.tokenizer().orElse(null);
            int[] input;
            if (prompt != null) {
                if (tokenizer == null) throw new IllegalArgumentException(engine.modelName() + " has no tokenizer.json; use --tokens");
                input = withBos(tokenizer.encode(prompt, true), engine);
                out.print(prompt);
            } else {
                input = TokenList.parse(tokens, engine.config().vocabSize());
            }
            if (input.length == 0) throw new IllegalArgumentException("the prompt encodes to no tokens");
            Sampler sampler = new Sampler(params);
            StopMatcher stopMatcher = new StopMatcher(stops);
            StreamingDetokenizer detok = tokenizer != null ? tokenizer.streaming() : null;
            Integer eos = engine.config().eosTokenId();

            SessionState state = engine.newState();
            long t0 = System.nanoTime();
            float[] logits = engine.prefill(state, input);
            long tFirst = System.nanoTime();
            int[] history = new int[input.length + maxTokens];
            System.arraycopy(input, 0, history, 0, input.length);
            int len = input.length, generated = 0;
            while (generated < maxTokens) {
                int next = sampler.sample(logits, history, len);
                history[len++] = next;
                generated++;
                if (eos != null && next == eos) break;
                if (detok != null) {
                    StopMatcher.Result r = stopMatcher.push(detok.push(next));
                    out.print(r.emit());
                    if (r.stopped()) break;
                } else {
                    out.print((generated > 1 ? "," : "") + next);
                }
                if (generated < maxTokens) logits = engine.step(state, next);
            }
            if (detok != null) out.print(stopMatcher.push(detok.flush()).emit() + stopMatcher.flush());
            out.println();
            long t1 = System.nanoTime();
            System.err.printf("[%d prompt tokens in %.1f ms, %d generated at %.1f tokens/s]%n", input.length,
                    (tFirst - t0) / 1e6, generated, generated > 1 ? (generated - 1) / ((t1 - tFirst) / 1e9) : 0.0);
        }
        return 0;
    }

    /** Prepends the model's BOS when the tokenizer did not (MMfreeLM prompts start with BOS). */
    static int[] withBos(int[] ids, Engine engine) {
        Integer bos = engine.config().bosTokenId();
        if (bos == null || (ids.length > 0 && ids[0] == bos)) return ids;
        int[] out = new int[ids.length + 1];
        out[0] = bos;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
