package io.ternstream.engine.tokenizer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A byte-fallback BPE tokenizer (Llama style): characters outside the vocabulary become byte tokens. */
class StreamingDetokenizerTest {

    static TextTokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = TextTokenizer.load(Path.of(StreamingDetokenizerTest.class.getResource("/byte-fallback-tokenizer.json").toURI()));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void encodeDecodeRoundTrip() {
        String text = "hello wörld €5";
        int[] ids = tokenizer.encode(text);
        assertThat(ids.length).isGreaterThan(5);
        assertEquals(text, tokenizer.decode(ids));
    }

    @Test
    void multiByteCharactersSplitAcrossTokensAreNeverEmittedBroken() {
        String text = "a€b 😀 hello ü";
        int[] ids = tokenizer.encode(text);
        StreamingDetokenizer stream = tokenizer.streaming();
        List<String> deltas = new ArrayList<>();
        StringBuilder all = new StringBuilder();
        for (int id : ids) {
            String d = stream.push(id);
            deltas.add(d);
            all.append(d);
        }
        all.append(stream.flush());
        assertEquals(text, all.toString());
        for (String d : deltas) {
            assertThat(d).doesNotContain("\uFFFD");
            for (int i = 0; i < d.length(); i++) {
                char c = d.charAt(i);
                if (Character.isHighSurrogate(c)) assertThat(i + 1 < d.length() && Character.isLowSurrogate(d.charAt(i + 1))).isTrue();
            }
        }
        // the euro sign is three byte tokens: the first two produce nothing
        assertThat(deltas).contains("");
    }

    @Test
    void anIncompleteCharacterAtTheEndIsFlushedAsReplacement() {
        int[] euro = tokenizer.encode("€");
        StreamingDetokenizer stream = tokenizer.streaming();
        assertEquals("", stream.push(euro[euro.length - 3]));
        assertEquals("\uFFFD", stream.flush());
    }

    @Test
    void longStreamsCompactTheirWindow() {
        StreamingDetokenizer stream = tokenizer.streaming();
        StringBuilder out = new StringBuilder();
        int[] ids = tokenizer.encode("hello");
        for (int k = 0; k < 200; k++) for (int id : ids) out.append(stream.push(id));
        assertThat(out.toString()).startsWith("hello hello").hasSize("hello ".length() * 200 - 1);
    }

    @Test
    void brokenTokenizerFilesAreRefused(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Path bad = tmp.resolve("tokenizer.json");
        Files.writeString(bad, "{ not json");
        assertThat(assertThrows(IOException.class, () -> TextTokenizer.load(bad)).getMessage()).contains("not a usable tokenizer.json");
        assertThat(assertThrows(IOException.class, () -> TextTokenizer.load(tmp.resolve("missing.json"))).getMessage()).contains("not found");
    }
}
