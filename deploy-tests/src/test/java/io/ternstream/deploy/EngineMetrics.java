package io.ternstream.deploy;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Prometheus series the engine exports, from the service's own ServiceMetrics registered into a
 * plain registry: a query in the manifests that names a metric the engine no longer has fails here,
 * not silently in the cluster (Prometheus answers an unknown metric with an empty result).
 */
final class EngineMetrics {

    static final String SERVICE_METRICS = "io.ternstream.service.ops.ServiceMetrics";

    /** Suffixes the Prometheus registry adds to a meter's name, by meter type. */
    private static final Map<Meter.Type, List<String>> SUFFIXES = Map.of(
            Meter.Type.GAUGE, List.of(""),
            Meter.Type.COUNTER, List.of("_total"),
            Meter.Type.TIMER, List.of("_seconds", "_seconds_count", "_seconds_sum", "_seconds_max", "_seconds_bucket"),
            Meter.Type.DISTRIBUTION_SUMMARY, List.of("", "_count", "_sum", "_max", "_bucket"));

    private EngineMetrics() {
    }

    /** Series name -> meter type, for every meter the engine registers. */
    static Map<String, Meter.Type> series() {
        MeterRegistry registry = new SimpleMeterRegistry();
        try {
            Class.forName(SERVICE_METRICS).getConstructor(MeterRegistry.class).newInstance(registry);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot register the engine's metrics from " + SERVICE_METRICS, e);
        }
        Map<String, Meter.Type> series = new TreeMap<>();
        for (Meter meter : registry.getMeters()) {
            if (meter.getId().getTag("phi") != null) {
                continue; // a plain registry's percentile gauge; Prometheus shows it as a quantile of its timer
            }
            String base = meter.getId().getConventionName(NamingConvention.snakeCase);
            for (String suffix : SUFFIXES.getOrDefault(meter.getId().getType(), List.of(""))) {
                series.put(base + suffix, meter.getId().getType());
            }
        }
        return series;
    }
}
