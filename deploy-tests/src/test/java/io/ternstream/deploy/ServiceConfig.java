package io.ternstream.deploy;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The service's configuration as a deployment sees it: application.properties read with the prod
 * profile (what a container runs), plus the defaults of the few Quarkus settings that decide ports and
 * paths. Manifests are checked against this, so a renamed property fails the build here, not in a cluster.
 */
final class ServiceConfig {

    static final String PROPERTIES = "service/src/main/resources/application.properties";

    /** Property naming the process role; values below. */
    static final String ROLE = "ternstream.role";
    static final Set<String> ROLES = Set.of("engine", "gateway", "all");

    /** Logical topic -> property holding its name. */
    static final Map<String, String> TOPIC_PROPERTIES = orderedMap(
            "prompts", "ternstream.topics.prompts",
            "replies", "ternstream.topics.replies",
            "state", "ternstream.topics.state",
            "dead-letters", "ternstream.topics.dead-letters");

    /** Property naming the model folder the service loads. */
    static final String MODEL = "ternstream.model.path";

    static final String BOOTSTRAP_SERVERS = "kafka.bootstrap.servers";
    /** The prompts consumer's channel: Kafka client settings pass through under this prefix. */
    static final String PROMPTS_CHANNEL_PREFIX = "mp.messaging.incoming.prompts.";
    static final String GROUP_ID = PROMPTS_CHANNEL_PREFIX + "group.id";
    static final String GROUP_INSTANCE_ID = PROMPTS_CHANNEL_PREFIX + "group.instance.id";

    /** Quarkus settings a manifest may set although the service leaves them at their defaults. */
    private static final Map<String, String> QUARKUS_DEFAULTS = orderedMap(
            "quarkus.http.port", "8080",
            "quarkus.http.root-path", "/",
            "quarkus.http.non-application-root-path", "q",
            "quarkus.management.enabled", "false",
            "quarkus.management.port", "9000",
            "quarkus.management.root-path", "q",
            "quarkus.smallrye-health.root-path", "health",
            "quarkus.smallrye-health.liveness-path", "live",
            "quarkus.smallrye-health.readiness-path", "ready",
            "quarkus.smallrye-health.startup-path", "started",
            "quarkus.micrometer.export.prometheus.path", "metrics",
            "quarkus.log.console.json", "false",
            "quarkus.shutdown.timeout", "");

    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{([^}:]+)(?::([^}]*))?}");

    private final Properties properties;

    private ServiceConfig(Properties properties) {
        this.properties = properties;
    }

    static ServiceConfig load() {
        return parse(RepoFiles.read(PROPERTIES));
    }

    static ServiceConfig parse(String text) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("application.properties does not parse: " + e.getMessage(), e);
        }
        return new ServiceConfig(p);
    }

    /** The prod-profile value of a property, expressions expanded; Quarkus' default if unset; null if neither. */
    String value(String property) {
        return value(property, 0);
    }

    private String value(String property, int depth) {
        String raw = properties.getProperty("%prod." + property, properties.getProperty(property));
        if (raw == null) {
            raw = QUARKUS_DEFAULTS.get(property);
        }
        return raw == null ? null : expand(raw, depth);
    }

    String require(String property) {
        String v = value(property);
        if (v == null || v.isBlank()) {
            throw new AssertionError(PROPERTIES + " sets no value for " + property);
        }
        return v;
    }

    private String expand(String raw, int depth) {
        if (depth > 10) {
            throw new IllegalArgumentException("property expressions nest too deep: " + raw);
        }
        Matcher m = EXPRESSION.matcher(raw);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = value(m.group(1), depth + 1);
            if (v == null) {
                v = m.group(2) == null ? "" : expand(m.group(2), depth + 1);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Every property the service declares, profile prefixes removed. */
    Set<String> declared() {
        var names = new java.util.TreeSet<String>();
        for (String key : properties.stringPropertyNames()) {
            names.add(key.startsWith("%") ? key.substring(key.indexOf('.') + 1) : key);
        }
        return names;
    }

    int httpPort() {
        return Integer.parseInt(require("quarkus.http.port"));
    }

    /** Port serving /q/health and /q/metrics: the HTTP port unless Quarkus' management interface is on. */
    int managementPort() {
        return Boolean.parseBoolean(value("quarkus.management.enabled"))
                ? Integer.parseInt(require("quarkus.management.port")) : httpPort();
    }

    String healthPath(String kind) {
        String leaf = switch (kind) {
            case "started" -> value("quarkus.smallrye-health.startup-path");
            case "live" -> value("quarkus.smallrye-health.liveness-path");
            case "ready" -> value("quarkus.smallrye-health.readiness-path");
            default -> throw new IllegalArgumentException("no health check kind " + kind);
        };
        return join(nonApplicationRoot(), value("quarkus.smallrye-health.root-path"), leaf);
    }

    String metricsPath() {
        return join(nonApplicationRoot(), value("quarkus.micrometer.export.prometheus.path"));
    }

    private String nonApplicationRoot() {
        if (Boolean.parseBoolean(value("quarkus.management.enabled"))) {
            return value("quarkus.management.root-path");
        }
        String root = value("quarkus.http.non-application-root-path");
        // A relative non-application root sits under the HTTP root path; an absolute one does not.
        return root.startsWith("/") ? root : join(value("quarkus.http.root-path"), root);
    }

    private static String join(String... parts) {
        StringBuilder b = new StringBuilder();
        for (String part : parts) {
            for (String seg : part.split("/")) {
                if (!seg.isEmpty()) {
                    b.append('/').append(seg);
                }
            }
        }
        return b.isEmpty() ? "/" : b.toString();
    }

    /** Default topic name of a logical topic (prompts, replies, state, dead-letters). */
    String topic(String logical) {
        String property = TOPIC_PROPERTIES.get(logical);
        if (property == null) {
            throw new IllegalArgumentException("no topic " + logical);
        }
        return require(property);
    }

    /** Quarkus' environment-variable form of a property: non-alphanumerics become '_', upper case. */
    static String envName(String property) {
        return property.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(java.util.Locale.ROOT);
    }

    /** The property an environment variable sets, or null when it reaches none the service reads. */
    String propertyOfEnv(String env) {
        for (String p : declared()) {
            if (envName(p).equals(env)) {
                return p;
            }
        }
        for (String p : QUARKUS_DEFAULTS.keySet()) {
            if (envName(p).equals(env)) {
                return p;
            }
        }
        // Kafka client settings of the prompts channel pass through the connector to the consumer.
        String channel = envName(PROMPTS_CHANNEL_PREFIX);
        if (env.startsWith(channel) && declared().stream().anyMatch(p -> p.startsWith(PROMPTS_CHANNEL_PREFIX))) {
            String clientKey = env.substring(channel.length()).toLowerCase(java.util.Locale.ROOT).replace('_', '.');
            if (ConsumerConfig.configNames().contains(clientKey)) {
                return PROMPTS_CHANNEL_PREFIX + clientKey;
            }
        }
        return null;
    }

    /** Kafka client configuration names, for checks of settings passed through to clients. */
    static boolean isKafkaClientConfig(String key) {
        return ConsumerConfig.configNames().contains(key) || ProducerConfig.configNames().contains(key);
    }

    private static Map<String, String> orderedMap(String... kv) {
        var m = new LinkedHashMap<String, String>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }
}
