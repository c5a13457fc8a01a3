package io.ternstream.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ternstream.engine.golden.Golden;
import io.ternstream.engine.parallel.MemoryBandwidth;
import io.ternstream.engine.cli.CliRun.Captured;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench} prints one complete JSON object per configuration; bad arguments are usage errors. */
class BenchCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] CONTRACT = {"config", "threads", "batch", "context", "prefill_tokens_per_s",
            "decode_tokens_per_s", "decode_ms_p50", "decode_ms_p99", "decode_ms_min", "weight_bytes", "state_bytes_per_session", "rss_bytes"};

    @TempDir
    Path tmp;

    @Test
    void randomConfigFilePrintsOneLinePerCombination() throws Exception {
        Path config = tmp.resolve("config.json");
        Files.writeString(config, """
                {"model_type": "hgrn_bit", "vocab_size": 300, "hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 96}
                """);
        Captured c = CliRun.run("bench", "--random-config", config.toString(), "--prompt-tokens", "10", "--gen-tokens", "3",
                "--threads", "1,2", "--batch", "1,3", "--context", "4,40", "--warmup-tokens", "2", "--repeats", "1", "--no-bandwidth");
        assertEquals(0, c.code(), c.err());
        List<JsonNode> rows = new ArrayList<>();
        for (String line : c.out().strip().split("\n")) rows.add(JSON.readTree(line));
        assertEquals(8, rows.size(), c.out());
        for (JsonNode row : rows) {
            for (String key : CONTRACT) assertTrue(row.has(key), "missing " + key + " in " + row);
            assertThat(row.get("decode_tokens_per_s").asDouble()).isPositive();
            assertThat(row.get("prefill_tokens_per_s").asDouble()).isPositive();
            assertThat(row.get("decode_ms_p99").asDouble()).isGreaterThanOrEqualTo(row.get("decode_ms_p50").asDouble());
            assertThat(row.get("decode_ms_min").asDouble()).isPositive().isLessThanOrEqualTo(row.get("decode_ms_p50").asDouble());
            assertThat(row.get("rss_bytes").asLong()).isPositive();
            // 2 layers · (4·64·64 + 2·96·64 + 64·96) + 300·64 ternary weights; bytes depend on the layout
            assertThat(row.get("weight_bytes").asLong()).isBetween(2L * (4 * 64 * 64 + 3 * 96 * 64) / 5 + 300 * 64 / 5, 2L * (4 * 64 * 64 + 3 * 96 * 64) + 300 * 64L);
            // 2 layers × 64 floats + 40 bytes of header + CRC
            assertEquals(2 * 64 * 4 + 44, row.get("state_bytes_per_session").asInt());
        }
        assertThat(rows.stream().map(r -> r.get("threads").asInt() + "/" + r.get("context").asInt() + "/" + r.get("batch").asInt()).toList())
                .containsExactly("1/4/1", "1/4/3", "1/40/1", "1/40/3", "2/4/1", "2/4/3", "2/40/1", "2/40/3");
    }

    @Test
    void runsOnAModelFolderWithBandwidthBound() throws Exception {
        Captured c = CliRun.run("bench", "--model", Golden.dir().toString(), "--prompt-tokens", "8", "--gen-tokens", "2",
                "--threads", "1", "--warmup-tokens", "1", "--repeats", "1", "--bandwidth-mib", "64");
        assertEquals(0, c.code(), c.err());
        JsonNode row = JSON.readTree(c.out().strip());
        assertEquals(Golden.dir().getFileName().toString(), row.get("config").asText());
        assertThat(row.get("read_gb_per_s_1_thread").asDouble()).isPositive();
        assertThat(row.get("bound_tokens_per_s_1_thread").asDouble()).isPositive();
    }

    @Test
    void bandwidthProbeMeasuresAPositiveRate() {
        assertThat(MemoryBandwidth.measure(2, 1 << 22)).isPositive();
    }

    @Test
    void badArgumentsAreUsageErrors() {
        assertUsageError("Missing required argument", "bench", "--prompt-tokens", "4");
        assertUsageError("mutually exclusive", "bench", "--model", tmp.toString(), "--random-config", "370m");
        assertUsageError("--batch must be >= 1", "bench", "--random-config", "370m", "--batch", "0");
        assertUsageError("--context must be >= 1", "bench", "--random-config", "370m", "--context", "16,-1");
        assertUsageError("is not an int", "bench", "--random-config", "370m", "--threads", "two");
        assertUsageError("not a model folder", "bench", "--model", tmp.resolve("absent").toString());
        Captured c = CliRun.run("bench", "--random-config", tmp.resolve("none.json").toString(), "--no-bandwidth");
        assertTrue(c.code() != 0, "a missing config file must fail");
        assertThat(c.err()).contains("missing config.json");
    }

    private void assertUsageError(String message, String... args) {
        Captured c = CliRun.run(args);
        assertEquals(2, c.code(), "exit code for " + String.join(" ", args) + "; stderr: " + c.err());
        assertThat(c.err()).contains(message);
    }

}
