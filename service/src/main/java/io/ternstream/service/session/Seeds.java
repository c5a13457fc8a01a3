package io.ternstream.service.session;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The sampling seed of a request without one: a hash of (sessionId, requestId), so a prompt
 * redelivered after a crash samples exactly the same tokens on whichever instance runs it.
 */
public final class Seeds {
    private Seeds() {}

    public static long derive(String sessionId, String requestId) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(sessionId.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0); // separator: ("ab","c") and ("a","bc") differ
            sha.update(requestId.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(sha.digest()).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        }
    }
}
