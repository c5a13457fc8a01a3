package io.ternstream.service.gateway;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * The gateway's channels connect only where the role runs the gateway: with
 * {@code ternstream.role=engine} their {@code enabled} attribute is false, so the connector creates
 * no client for them. Derived from the role when the configuration is built (the role may come from
 * {@code --role}, a system property or TERNSTREAM_ROLE), at a low ordinal so an explicit
 * {@code mp.messaging.*.enabled} still wins. Registered in
 * META-INF/services/io.smallrye.config.ConfigSourceFactory.
 */
public final class GatewayChannelSwitch implements ConfigSourceFactory {
    static final String NAME = "ternstream gateway channels, by ternstream.role";
    /** Below application.properties (250), system properties and the environment. */
    static final int ORDINAL = 150;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        ConfigValue role = context.getValue("ternstream.role");
        String enabled = Boolean.toString(runsGateway(role == null ? null : role.getValue()));
        Map<String, String> properties = new HashMap<>();
        GatewayChannels.INCOMING.forEach(c -> properties.put("mp.messaging.incoming." + c + ".enabled", enabled));
        GatewayChannels.OUTGOING.forEach(c -> properties.put("mp.messaging.outgoing." + c + ".enabled", enabled));
        return List.of(new PropertiesConfigSource(properties, NAME, ORDINAL));
    }

    /** Same rule as ServiceConfig.Role.runsGateway; absent means the default role, all. */
    static boolean runsGateway(String role) {
        return role == null || !role.trim().equalsIgnoreCase("engine");
    }
}
