package io.ternstream.service.gateway;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Remembers which session holds the state of which conversation, by a hash of (caller, model,
 * messages so far including the assistant's last reply). A chat request whose messages extend a
 * remembered conversation continues that session with only its new messages, so a turn's cost
 * does not grow with the conversation. A hit is consumed: the session moves on with the new turn,
 * so a second request from the same prefix (a regenerated answer, another branch) gets a fresh
 * session instead of a state that no longer matches. Local to the replica, least recently used
 * entries go first; a miss only costs a full prefill.
 */
public final class ConversationIndex {
    private final Map<String, String> sessions;

    public ConversationIndex(int capacity) {
        this.sessions = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > capacity;
            }
        };
    }

    /** The session holding exactly these messages (and nothing after them), removed from the index. */
    public synchronized Optional<String> take(String caller, String model, List<ChatTemplate.Message> messages) {
        return Optional.ofNullable(sessions.remove(hash(caller, model, messages)));
    }

    public synchronized void remember(String caller, String model, List<ChatTemplate.Message> messages,
                                      String sessionId) {
        sessions.put(hash(caller, model, messages), sessionId);
    }

    static String hash(String caller, String model, List<ChatTemplate.Message> messages) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            update(digest, caller);
            update(digest, model);
            for (ChatTemplate.Message m : messages) {
                update(digest, m.role());
                update(digest, m.content());
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Length-prefixed, so ("ab","c") and ("a","bc") differ. */
    private static void update(MessageDigest digest, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        digest.update(new byte[] {(byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16),
                (byte) (bytes.length >>> 8), (byte) bytes.length});
        digest.update(bytes);
    }
}
