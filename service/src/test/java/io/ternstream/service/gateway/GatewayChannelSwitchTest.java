package io.ternstream.service.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The gateway's channels follow ternstream.role, as SmallRye Config builds the configuration. */
class GatewayChannelSwitchTest {
    static SmallRyeConfig config(Map<String, String> properties) {
        return new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(properties, "test", 250))
                .withSources(new GatewayChannelSwitch())
                .build();
    }

    static boolean enabled(SmallRyeConfig config, String direction, String channel) {
        return config.getValue("mp.messaging." + direction + "." + channel + ".enabled", Boolean.class);
    }

    @Test
    void roleEngineTurnsEveryGatewayChannelOff() {
        SmallRyeConfig config = config(Map.of("ternstream.role", "engine"));
        GatewayChannels.INCOMING.forEach(c -> assertEquals(false, enabled(config, "incoming", c), c));
        GatewayChannels.OUTGOING.forEach(c -> assertEquals(false, enabled(config, "outgoing", c), c));
    }

    @Test
    void rolesGatewayAllAndTheDefaultKeepThemOn() {
        for (Map<String, String> properties : java.util.List.of(Map.of("ternstream.role", "gateway"),
                Map.of("ternstream.role", "all"), Map.<String, String>of())) {
            SmallRyeConfig config = config(properties);
            GatewayChannels.INCOMING.forEach(c -> assertEquals(true, enabled(config, "incoming", c), c));
            GatewayChannels.OUTGOING.forEach(c -> assertEquals(true, enabled(config, "outgoing", c), c));
        }
    }

    @Test
    void anExplicitSettingWins() {
        SmallRyeConfig config = config(Map.of("ternstream.role", "engine",
                "mp.messaging.incoming." + GatewayChannels.REPLIES + ".enabled", "true"));
        assertEquals(true, enabled(config, "incoming", GatewayChannels.REPLIES));
        assertEquals(false, enabled(config, "incoming", GatewayChannels.OWNERS));
    }
}
