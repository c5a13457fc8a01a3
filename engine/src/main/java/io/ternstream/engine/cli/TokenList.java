package io.ternstream.engine.cli;

/** Parses "5,17,300" into token ids, with messages that point at the bad element. */
final class TokenList {
    private TokenList() {}

    static int[] parse(String text, int vocab) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("--tokens is empty");
        String[] parts = text.split(",");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            try {
                ids[i] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--tokens: '" + p + "' (element " + (i + 1) + ") is not an integer token id");
            }
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new IllegalArgumentException("--tokens: id " + ids[i] + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        return ids;
    }
}
