package io.ternstream.service.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClientArgumentsTest {
    @Test
    void parsesAFullCommandLine() {
        var o = ClientMain.parse("--bootstrap-servers", "localhost:9092", "--session", "s1", "--tokens", "1, 2,3",
                "--max-tokens", "5", "--temperature", "0", "--seed", "9", "--json", "--request-id", "r");
        assertEquals(List.of(1, 2, 3), o.tokens());
        assertEquals(5, o.maxTokens());
        assertEquals(0f, o.temperature());
        assertEquals(9L, o.seed());
        assertEquals("r", o.requestId());
        assertTrue(o.json());
        assertNull(ClientMain.parse("--help"));
    }

    @Test
    void brokenArgumentsAreRefusedWithAReason() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClientMain.parse("--session", "s", "--prompt", "x"))
                .getMessage().contains("--bootstrap-servers"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClientMain.parse("--bootstrap-servers", "h:1",
                "--session", "s", "--prompt", "x", "--tokens", "1")).getMessage().contains("exactly one"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClientMain.parse("--bootstrap-servers", "h:1",
                "--session", "s", "--prompt", "x", "--max-tokens", "many")).getMessage().contains("not a number"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClientMain.parse("--bootstrap-servers", "h:1",
                "--session", "s", "--tokens", "1,x")).getMessage().contains("not a number"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClientMain.parse("--bogus", "1"))
                .getMessage().contains("unknown option"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClientMain.parse("--session"))
                .getMessage().contains("needs a value"));
    }

    @Test
    void anInvalidPromptIsRefusedBeforeAnythingIsSent() {
        var o = ClientMain.parse("--bootstrap-servers", "127.0.0.1:1", "--session", "has space", "--prompt", "x");
        var err = new java.io.ByteArrayOutputStream();
        int status = ClientMain.send(o, new java.io.PrintStream(new java.io.ByteArrayOutputStream()),
                new java.io.PrintStream(err));
        assertEquals(2, status);
        assertTrue(err.toString().contains("$.sessionId"), err.toString());
    }
}
