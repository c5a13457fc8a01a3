package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
    /** A GatewayConfig.Security with the given values (the rest of GatewayConfig is not read). */
    static GatewayConfig config(List<String> keys, List<String> hashes, boolean required) {
        GatewayConfig.Security security = (GatewayConfig.Security) Proxy.newProxyInstance(
                ApiKeysTest.class.getClassLoader(), new Class<?>[] {GatewayConfig.Security.class},
                (p, m, a) -> switch (m.getName()) {
                    case "apiKeys" -> Optional.ofNullable(keys);
                    case "apiKeyHashes" -> Optional.ofNullable(hashes);
                    case "requireApiKeys" -> required;
                    default -> Optional.empty();
                });
        return (GatewayConfig) Proxy.newProxyInstance(ApiKeysTest.class.getClassLoader(),
                new Class<?>[] {GatewayConfig.class}, (p, m, a) -> m.getName().equals("security") ? security : null);
    }

    @Test
    void keysAndHashesBothWorkAndIdsDoNotRevealKeys() {
        String hash = HexFormat.of().formatHex(ApiKeys.sha256("hashed-key"));
        var keys = new ApiKeys(config(List.of("plain-key"), List.of(hash.toUpperCase()), true));
        String plain = keys.authenticate("plain-key").orElseThrow();
        String hashed = keys.authenticate(ApiKeys.fromAuthorization("Bearer hashed-key")).orElseThrow();
        assertNotEquals(plain, hashed);
        assertTrue(plain.startsWith("key-") && !plain.contains("plain"));
        assertTrue(keys.authenticate("wrong").isEmpty());
        assertTrue(keys.authenticate(null).isEmpty());
        assertTrue(keys.authenticate("").isEmpty());
    }

    @Test
    void withoutKeysEveryoneIsAnonymousUnlessKeysAreRequired() {
        assertEquals(Optional.of(ApiKeys.ANONYMOUS), new ApiKeys(config(null, null, false)).authenticate(null));
        var closed = new ApiKeys(config(null, null, true));
        assertTrue(closed.misconfigured());
        assertTrue(closed.authenticate("anything").isEmpty());
    }

    @Test
    void brokenHashIsRejectedWithTheSettingName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new ApiKeys(config(null, List.of("xyz"), false)));
        assertTrue(e.getMessage().contains("api-key-hashes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ApiKeys(config(null, List.of("abcd"), false)));
    }
}
