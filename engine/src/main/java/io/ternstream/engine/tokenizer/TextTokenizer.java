package io.ternstream.engine.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's bindings of the tokenizers library, so any HF
 * tokenizer works. DJL is forced offline before first use: it must never reach the network.
 */
public final class TextTokenizer implements AutoCloseable {

    static {
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
    }

    private final HuggingFaceTokenizer tokenizer;

    private TextTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public static TextTokenizer load(Path tokenizerJson) throws IOException {
        if (!Files.isRegularFile(tokenizerJson)) throw new IOException(tokenizerJson + ": tokenizer file not found");
        try {
            // no padding/truncation; special tokens are added only when asked (see encode)
            return new TextTokenizer(HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("addSpecialTokens", "false", "padding", "false", "truncation", "false")));
        } catch (RuntimeException e) {
            throw new IOException(tokenizerJson + ": not a usable tokenizer.json: " + e.getMessage(), e);
        }
    }

    /** Token ids of {@code text}, without special tokens (a continuation of a conversation). */
    public int[] encode(String text) {
        return encode(text, false);
    }

    /** Token ids of {@code text}; with {@code addSpecialTokens} the tokenizer's post-processor adds e.g. BOS. */
    public int[] encode(String text, boolean addSpecialTokens) {
        Encoding e = tokenizer.encode(text, addSpecialTokens, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    /** Text of {@code ids}, keeping special tokens out. Incomplete UTF-8 sequences come back as U+FFFD. */
    public String decode(int[] ids) {
        return decode(ids, 0, ids.length);
    }

    public String decode(int[] ids, int from, int to) {
        long[] longs = new long[to - from];
        for (int i = from; i < to; i++) longs[i - from] = ids[i];
        return tokenizer.decode(longs, true);
    }

    public StreamingDetokenizer streaming() {
        return new StreamingDetokenizer(this);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
