package io.ternstream.service.gateway;

import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Checks API keys. Keys are kept only as SHA-256 digests; a caller is identified by a short id
 * derived from the digest (never the key), which is what session ownership records store.
 */
@ApplicationScoped
public class ApiKeys {
    /** The caller when no keys are configured (local use): every session belongs to it. */
    public static final String ANONYMOUS = "anonymous";

    private final List<byte[]> digests = new ArrayList<>();
    private final boolean closed;

    public ApiKeys(GatewayConfig config) {
        config.security().apiKeys().orElse(List.of()).stream().filter(k -> !k.isBlank())
                .forEach(k -> digests.add(sha256(k)));
        for (String hex : config.security().apiKeyHashes().orElse(List.of())) {
            if (hex.isBlank()) {
                continue;
            }
            try {
                byte[] digest = HexFormat.of().parseHex(hex.trim().toLowerCase());
                if (digest.length != 32) {
                    throw new IllegalArgumentException("length " + digest.length);
                }
                digests.add(digest);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ternstream.gateway.security.api-key-hashes: '" + hex
                        + "' is not a hex SHA-256 digest (64 hex digits)", e);
            }
        }
        // required but none configured: closed, not open. Every request is refused (the engine role
        // of the same process keeps working), and the gateway logs why at start.
        this.closed = config.security().requireApiKeys() && digests.isEmpty();
    }

    public boolean required() {
        return !digests.isEmpty();
    }

    /** True when keys are required and none are configured: nobody gets in. */
    public boolean misconfigured() {
        return closed;
    }

    /**
     * The caller id for a presented key: empty when keys are configured and the key is missing or
     * unknown, or when keys are required and none are configured; ANONYMOUS when no keys are
     * configured and none are required.
     */
    public Optional<String> authenticate(String presented) {
        if (closed) {
            return Optional.empty();
        }
        if (digests.isEmpty()) {
            return Optional.of(ANONYMOUS);
        }
        if (presented == null || presented.isBlank()) {
            return Optional.empty();
        }
        byte[] digest = sha256(presented.trim());
        boolean found = false;
        for (byte[] known : digests) {
            found |= MessageDigest.isEqual(known, digest); // no early exit: timing says nothing about the list
        }
        return found ? Optional.of(callerId(digest)) : Optional.empty();
    }

    /** "Bearer KEY" → KEY; anything else as given. */
    public static String fromAuthorization(String header) {
        if (header == null) {
            return null;
        }
        String h = header.trim();
        return h.regionMatches(true, 0, "Bearer ", 0, 7) ? h.substring(7).trim() : h;
    }

    private static String callerId(byte[] digest) {
        return "key-" + HexFormat.of().formatHex(digest, 0, 8);
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
