package io.ternstream.engine.cli;

import io.ternstream.engine.golden.Golden;
import io.ternstream.engine.safetensors.SafetensorsFile;
import io.ternstream.engine.cli.CliRun.Captured;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI reproduces the reference logits; bad arguments give usage errors (exit code 2). */
class CliTest {

    @TempDir
    Path tmp;

    @Test
    void logitsCommandReproducesTheGoldenLogitsInBothModes() throws Exception {
        try (Golden golden = Golden.open()) {
            int[] prompt = golden.tokens("prompt.len64");
            String tokens = Arrays.stream(prompt).mapToObj(Integer::toString).collect(Collectors.joining(","));
            for (String mode : new String[] {"full", "step"}) {
                Path out = tmp.resolve(mode + ".safetensors");
                assertEquals(0, TernstreamCli.execute("logits", "--model", Golden.dir().toString(), "--tokens", tokens,
                        "--mode", mode, "--out", out.toString(), "--threads", "2"));
                try (SafetensorsFile file = SafetensorsFile.open(out)) {
                    var logits = file.tensors().get("logits");
                    assertThat(logits.shape()).containsExactly(64, 512);
                    float[][] rows = new float[64][512];
                    for (int r = 0; r < 64; r++) logits.readFloats(r * 512L, rows[r], 0, 512);
                    Golden.assertLogitsClose(golden.rows(mode.equals("full") ? "full.len64.logits" : "step.len64.logits"), rows, mode);
                    for (int l = 0; l < 3; l++) {
                        float diff = Golden.maxAbsDiff(golden.flat("state.len64.layer" + l), file.tensors().get("state.layer" + l).toFloatArray());
                        assertTrue(diff < 2e-2f, "state layer " + l + " differs by " + diff);
                    }
                }
            }
        }
    }

    @Test
    void badArgumentsGiveAUsageErrorAndExitCode2() {
        String model = Golden.dir().toString();
        assertUsageError("Unmatched argument", "frobnicate");
        assertUsageError("is not an integer", "logits", "--model", model, "--tokens", "1,x", "--out", tmp.resolve("o").toString());
        assertUsageError("outside the vocabulary", "logits", "--model", model, "--tokens", "1,99999", "--out", tmp.resolve("o").toString());
        assertUsageError("Missing required option", "logits", "--model", model, "--tokens", "1");
        assertUsageError("Invalid value", "logits", "--model", model, "--tokens", "1", "--mode", "sideways", "--out", "x");
        assertUsageError("exactly one of --prompt or --tokens", "generate", "--model", model);
        assertUsageError("has no tokenizer.json", "generate", "--model", model, "--prompt", "hi");
        assertUsageError("temperature must be >= 0", "generate", "--model", model, "--tokens", "5", "--temperature", "-1");
        assertUsageError("does not exist", "perplexity", "--model", model, "--file", tmp.resolve("none.txt").toString());
        assertUsageError("--threads must be >= 1", "generate", "--model", model, "--tokens", "5", "--threads", "0");
    }

    @Test
    void aBrokenModelFolderFailsWithExitCode1AndNamesTheProblem() {
        Captured c = CliRun.run("logits", "--model", tmp.toString(), "--tokens", "1", "--out", tmp.resolve("o").toString());
        assertEquals(1, c.code());
        assertThat(c.err()).contains("missing config.json");
    }

    @Test
    void generateStreamsTokenIdsForAModelWithoutTokenizer() {
        Captured c = CliRun.run("generate", "--model", Golden.dir().toString(), "--tokens", "263,188,163,182,103,275,77,220",
                "--max-tokens", "5", "--temperature", "0");
        assertEquals(0, c.code(), c.err());
        assertThat(c.out().trim()).isEqualTo("446,113,116,125,315"); // the reference's greedy continuation
    }

    private void assertUsageError(String message, String... args) {
        Captured c = CliRun.run(args);
        assertEquals(2, c.code(), "exit code for " + String.join(" ", args) + "; stderr: " + c.err());
        assertThat(c.err()).contains(message);
    }

}
