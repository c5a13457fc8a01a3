package io.ternstream.service.config;

import io.smallrye.config.SmallRyeConfigBuilder;
import io.quarkus.runtime.configuration.DurationConverter;
import java.time.Duration;
import java.util.Map;

/** The service's configuration mapping built outside Quarkus: defaults plus the given settings. */
public final class TestConfigs {
    private TestConfigs() {}

    public static ServiceConfig of(Map<String, String> settings) {
        return new SmallRyeConfigBuilder().withMapping(ServiceConfig.class)
                .withConverter(Duration.class, 100, new DurationConverter())
                .withDefaultValues(settings)
                .build().getConfigMapping(ServiceConfig.class);
    }
}
