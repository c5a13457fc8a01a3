package io.ternstream.engine.cli;

import io.ternstream.engine.Engine;
import io.ternstream.engine.state.SessionState;
import io.ternstream.engine.tokenizer.TextTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Perplexity of a text file: the text is tokenized (BOS prepended when the model has one), every token
 * after the first is scored given all before it, and one JSON line reports the count, mean NLL and ppl.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true, description = "Perplexity of a text file, as one JSON line")
final class PerplexityCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--file", required = true, paramLabel = "TEXT")
    Path file;

    @Override
    public Integer call() throws Exception {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--file " + file + " does not exist");
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("--file " + file + " is not UTF-8 text");
        }
        try (Engine engine = model.open()) {
            TextTokenizer tokenizer = engine.tokenizer()
                    .orElseThrow(() -> new IllegalArgumentException(engine.modelName() + " has no tokenizer.json"));
            int[] ids = GenerateCommand.withBos(tokenizer.encode(text, true), engine);
            Result r = perplexity(engine, ids);
            System.out.println(String.format(Locale.ROOT, "{\"tokens\":%d,\"nll\":%.6f,\"ppl\":%.4f}", r.tokens, r.nll, r.ppl));
        }
        return 0;
    }

    /** Mean NLL and perplexity of ids[1..] given the preceding tokens. */
    record Result(int tokens, double nll, double ppl) {}

    static Result perplexity(Engine engine, int[] ids) {
        if (ids.length < 2) throw new IllegalArgumentException("need at least two tokens to score");
        SessionState state = engine.newState();
        int chunk = 256;
        double total = 0;
        for (int start = 0; start < ids.length - 1; start += chunk) {
            int end = Math.min(ids.length - 1, start + chunk);
            float[][] logits = engine.forwardAll(state, Arrays.copyOfRange(ids, start, end), null);
            for (int t = start; t < end; t++) total -= logSoftmax(logits[t - start], ids[t + 1]);
        }
        int scored = ids.length - 1;
        double nll = total / scored;
        return new Result(scored, nll, Math.exp(nll));
    }

    static double logSoftmax(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return logits[target] - max - Math.log(sum);
    }
}
