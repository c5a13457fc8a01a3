package io.ternstream.engine.cli;

import io.ternstream.engine.Engine;
import io.ternstream.engine.Perplexity;
import io.ternstream.engine.tokenizer.TextTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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
            Perplexity r = Perplexity.of(engine, ids);
            System.out.println(String.format(Locale.ROOT, "{\"tokens\":%d,\"nll\":%.6f,\"ppl\":%.4f}", r.tokens(), r.nll(), r.ppl()));
        }
        return 0;
    }
}
