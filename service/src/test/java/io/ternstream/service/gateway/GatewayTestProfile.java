package io.ternstream.service.gateway;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * One Quarkus boot for all gateway tests: role all (engine and gateway in one process, embedded
 * broker), two API keys plus one per test that needs its own rate budget, small limits so the
 * refusals are cheap to provoke. The model is the bundled one when present, else the golden tiny
 * checkpoint with a byte-fallback tokenizer beside it; tests never depend on what it says.
 */
public class GatewayTestProfile implements QuarkusTestProfile {
    static final String ALICE = "alice-test-key";
    static final String BOB = "bob-test-key";
    static final String FLOOD = "flood-test-key";
    static final String PERF = "perf-test-key";
    static final String BROWSER = "browser-test-key";
    static final int MAX_MESSAGE_BYTES = 8192;
    static final int MAX_TOKENS = 512;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.ofEntries(
                // surefire passes -Dternstream.golden.dir, which is no ServiceConfig property
                Map.entry("smallrye.config.mapping.validate-unknown", "false"),
                Map.entry("ternstream.role", "all"),
                Map.entry("ternstream.model.dir", modelDir().toString()),
                Map.entry("ternstream.gateway.replica-id", "test"),
                Map.entry("ternstream.gateway.model-name", "ternstream-test"),
                Map.entry("ternstream.gateway.security.api-keys", String.join(",", ALICE, BOB, FLOOD, PERF, BROWSER)),
                Map.entry("ternstream.gateway.limits.max-message-bytes", Integer.toString(MAX_MESSAGE_BYTES)),
                Map.entry("ternstream.limits.max-prompt-tokens", "2048"),
                Map.entry("ternstream.limits.max-tokens", Integer.toString(MAX_TOKENS)),
                Map.entry("ternstream.gateway.limits.requests-per-second", "10"),
                Map.entry("ternstream.gateway.limits.burst", "50"),
                Map.entry("ternstream.gateway.request-timeout", "60s"));
    }

    /** The bundled model if it is there (it has a tokenizer), else golden weights plus a test tokenizer. */
    static Path modelDir() {
        Path bundled = Path.of("..", "models", "ternstream-tiny").toAbsolutePath().normalize();
        if (Files.isRegularFile(bundled.resolve("tokenizer.json"))) {
            return bundled;
        }
        Path golden = Path.of(System.getProperty("ternstream.golden.dir", "../engine/src/test/resources/golden/hgrn-bit-tiny"));
        Path dir = Path.of("target", "gateway-test-model").toAbsolutePath();
        try {
            Files.createDirectories(dir);
            for (String file : new String[] {"config.json", "model.safetensors"}) {
                Path source = golden.resolve(file);
                if (!Files.isRegularFile(source)) {
                    throw new IllegalStateException("missing " + source + ": the gateway tests need the golden tiny "
                            + "checkpoint (set -Dternstream.golden.dir)");
                }
                Files.copy(source, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
            try (InputStream in = GatewayTestProfile.class.getResourceAsStream("/gateway/tokenizer.json")) {
                Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }
}
