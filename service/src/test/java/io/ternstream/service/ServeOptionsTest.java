package io.ternstream.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ServeOptionsTest {
    @Test
    void optionsBecomeConfigurationProperties() {
        assertEquals(Map.of("ternstream.model.dir", "m", "quarkus.http.port", "8081", "ternstream.kafka.embedded.port",
                        "9093", "ternstream.role", "engine"),
                TernstreamMain.serveOptions("serve", "--model", "m", "--http-port", "8081", "--kafka-port", "9093",
                        "--role", "engine"));
        assertNull(TernstreamMain.serveOptions("serve", "--help"));
    }

    @Test
    void brokenOptionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> TernstreamMain.serveOptions("--http-port", "eighty"));
        assertThrows(IllegalArgumentException.class, () -> TernstreamMain.serveOptions("--role", "boss"));
        assertThrows(IllegalArgumentException.class, () -> TernstreamMain.serveOptions("--model"));
        assertThrows(IllegalArgumentException.class, () -> TernstreamMain.serveOptions("--colour", "red"));
    }
}
