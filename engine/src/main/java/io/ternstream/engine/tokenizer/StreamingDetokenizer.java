package io.ternstream.engine.tokenizer;

import java.util.Arrays;

/**
 * Turns a stream of token ids into text deltas that never split a character. Decoding token by token
 * is wrong for byte-fallback and byte-level tokens (one character can span several tokens) and for
 * tokenizers that strip a leading space, so each push decodes a short window of recent tokens and
 * emits only what the window adds beyond its previous text — and nothing while the window ends in an
 * incomplete UTF-8 sequence (decoded as U+FFFD).
 */
public final class StreamingDetokenizer {

    private static final char REPLACEMENT = '\uFFFD';

    private final TextTokenizer tokenizer;
    private int[] ids = new int[64];
    private int size;
    private int prefixStart; // window start: text before it has been emitted
    private int readStart;   // tokens in [prefixStart, readStart) have been emitted

    StreamingDetokenizer(TextTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** Adds one token; returns the new text it completes (possibly empty). */
    public String push(int id) {
        if (size == ids.length) compact();
        ids[size++] = id;
        String before = tokenizer.decode(ids, prefixStart, readStart);
        String now = tokenizer.decode(ids, prefixStart, size);
        if (now.length() > before.length() && now.charAt(now.length() - 1) != REPLACEMENT) {
            String delta = now.substring(before.length());
            prefixStart = readStart;
            readStart = size;
            return delta;
        }
        return "";
    }

    /** Text still held back at the end of the stream (an incomplete character becomes U+FFFD). */
    public String flush() {
        String before = tokenizer.decode(ids, prefixStart, readStart);
        String now = tokenizer.decode(ids, prefixStart, size);
        prefixStart = readStart = size;
        return now.length() > before.length() ? now.substring(before.length()) : "";
    }

    private void compact() {
        int keep = size - prefixStart;
        if (prefixStart > 0) {
            System.arraycopy(ids, prefixStart, ids, 0, keep);
            readStart -= prefixStart;
            prefixStart = 0;
            size = keep;
        }
        if (size == ids.length) ids = Arrays.copyOf(ids, ids.length * 2);
    }
}
