package io.ternstream.service.gateway;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The gateway as {@code ./ternstream serve} runs it locally: no API keys, every caller anonymous
 * and every session shared. Internal messages are refused all the same.
 */
@QuarkusTest
@TestProfile(GatewayOpenAccessTest.OpenAccess.class)
class GatewayOpenAccessTest {
    /** The gateway tests' set-up without keys. */
    public static class OpenAccess implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> overrides = new HashMap<>(new GatewayTestProfile().getConfigOverrides());
            overrides.remove("ternstream.gateway.security.api-keys");
            return overrides;
        }
    }

    @TestHTTPResource("/")
    URI base;

    @Inject
    Vertx vertx;

    @Test
    void anInternalMessageIsRefusedAndReachesNoOtherSession() {
        ImportInjection.assertRefused(vertx, base, null, null);
    }
}
