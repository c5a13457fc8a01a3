package io.ternstream.engine.quality;

import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import io.ternstream.engine.Perplexity;
import io.ternstream.engine.tokenizer.TextTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import io.ternstream.engine.cli.CliRun;
import io.ternstream.engine.cli.CliRun.Captured;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundled model's perplexity on its held-out validation text, computed by the engine, equals the
 * value PyTorch computed at export within 1%, and is far below the uniform baseline (the vocabulary size).
 */
class PerplexityQualityTest {

    static Engine engine;
    static BundledModel.Reference reference;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() throws Exception {
        engine = Engine.open(BundledModel.dir(), new EngineOptions(2));
        reference = BundledModel.reference();
    }

    @AfterAll
    static void close() {
        if (engine != null) engine.close();
    }

    @Test
    void theTokenizerEncodesTheValidationTextAsTrainingDid() throws Exception {
        TextTokenizer tokenizer = engine.tokenizer().orElseThrow();
        String text = BundledModel.validationText();
        int[] ids = tokenizer.encode(text);
        assertArrayEquals(reference.perplexity().ids(), ids, "token ids of validation.txt");
        assertEquals(text, tokenizer.decode(ids), "byte-level BPE round-trips the text");
    }

    @Test
    void perplexityOfTheValidationTextMatchesPyTorchAndBeatsUniformByFar() throws Exception {
        int[] ids = reference.perplexity().ids();
        int[] tokens = new int[ids.length + 1];
        tokens[0] = engine.config().bosTokenId();
        System.arraycopy(ids, 0, tokens, 1, ids.length);

        Perplexity scored = Perplexity.of(engine, tokens);
        double nll = scored.nll();
        double ppl = scored.ppl();
        double expected = reference.perplexity().ppl();
        assertEquals(reference.perplexity().tokens(), ids.length);
        assertTrue(Math.abs(ppl / expected - 1) <= BundledModel.PPL_TOLERANCE,
                "engine ppl " + ppl + " vs PyTorch " + expected + " (nll " + nll + " vs " + reference.perplexity().nll() + ")");
        assertThat(ppl).as("perplexity vs uniform %d", engine.config().vocabSize())
                .isLessThan(engine.config().vocabSize() / 100.0);
    }

    @Test
    void perplexityCommandPrintsOneJsonLineWithTheSameNumbers() throws Exception {
        Captured c = CliRun.run("perplexity", "--model", BundledModel.dir().toString(),
                "--file", BundledModel.dir().resolve("validation.txt").toString(), "--threads", "2");
        assertEquals(0, c.code(), c.err());
        String[] lines = c.out().strip().split("\n");
        assertEquals(1, lines.length, c.out());
        JsonNode json = new ObjectMapper().readTree(lines[0]);
        assertEquals(reference.perplexity().tokens(), json.get("tokens").asInt());
        assertEquals(Math.log(json.get("ppl").asDouble()), json.get("nll").asDouble(), 1e-4);
        assertTrue(Math.abs(json.get("ppl").asDouble() / reference.perplexity().ppl() - 1) <= BundledModel.PPL_TOLERANCE, lines[0]);
    }

    @Test
    void perplexityCommandRejectsTextThatIsNotUtf8OrTooShort() throws Exception {
        Path latin1 = Files.write(tmp.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n'});
        Captured bad = CliRun.run("perplexity", "--model", BundledModel.dir().toString(), "--file", latin1.toString());
        assertEquals(2, bad.code(), bad.err());
        assertThat(bad.err()).contains("is not UTF-8 text");

        Path empty = Files.write(tmp.resolve("empty.txt"), new byte[0]);
        Captured none = CliRun.run("perplexity", "--model", BundledModel.dir().toString(), "--file", empty.toString());
        assertEquals(2, none.code(), none.err());
        assertThat(none.err()).contains("at least two tokens");
    }
}
