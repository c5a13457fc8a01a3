package io.ternstream.engine.quality;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The bundled model {@code models/ternstream-tiny} and the numbers PyTorch recorded for it at export
 * ({@code reference.json}, written by training/export.py with the exact reference math). Missing
 * files fail the tests: a quality test that skips itself proves nothing.
 */
final class BundledModel {

    /** Relative tolerance on perplexity between the engine and PyTorch. */
    static final double PPL_TOLERANCE = 0.01;

    private BundledModel() {}

    static Path dir() {
        Path repo = Path.of(System.getProperty("ternstream.repo.dir", ".."));
        Path dir = repo.resolve("models/ternstream-tiny");
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "validation.txt", "reference.json")) {
            if (!Files.isRegularFile(dir.resolve(f))) fail("bundled model incomplete: " + dir.resolve(f).toAbsolutePath() + " is missing");
        }
        return dir;
    }

    static String validationText() throws IOException {
        return Files.readString(dir().resolve("validation.txt"), StandardCharsets.UTF_8);
    }

    static Reference reference() throws IOException {
        return new ObjectMapper().readValue(dir().resolve("reference.json").toFile(), Reference.class);
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Reference(@JsonProperty("vocab_size") int vocabSize,
                     @JsonProperty("perplexity") Perplexity perplexity,
                     @JsonProperty("greedy") List<Greedy> greedy) {}

    /** Scoring: [bos] + encode(validation.txt); every text token predicted from its prefix. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Perplexity(@JsonProperty("tokens") int tokens, @JsonProperty("nll") double nll,
                      @JsonProperty("ppl") double ppl, @JsonProperty("ids") int[] ids) {}

    /** Greedy continuation of [bos] + encode(prompt); gaps[k] = top1 - top2 logit at new token k. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record Greedy(@JsonProperty("prompt") String prompt, @JsonProperty("prompt_ids") int[] promptIds,
                  @JsonProperty("tokens") int[] tokens, @JsonProperty("text") String text,
                  @JsonProperty("gaps") double[] gaps, @JsonProperty("top1_logits") double[] top1Logits) {}
}
