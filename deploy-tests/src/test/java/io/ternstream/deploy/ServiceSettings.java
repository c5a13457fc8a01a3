package io.ternstream.deploy;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The service's configuration as a deployment sees it, from its two sources: the {@code @ConfigMapping}
 * interface that declares every ternstream.* property with its default (read by reflection, so a
 * renamed property fails this build), and application.properties read with the prod profile (what a
 * container runs). Plus the defaults of the few Quarkus settings that decide ports and paths.
 */
final class ServiceSettings {

    static final String PROPERTIES = "service/src/main/resources/application.properties";
    static final String CONFIG_MAPPING = "io.ternstream.service.config.ServiceConfig";

    static final String ROLE = "ternstream.role";
    static final String HOME = "ternstream.home";
    static final String BOOTSTRAP_SERVERS = "ternstream.kafka.bootstrap-servers";
    /** The consumer group, which is also the engine's Kafka Streams application id (the changelogs' prefix). */
    static final String GROUP_ID = "ternstream.kafka.group-id";
    /** Folder of the engine's local session stores (RocksDB). */
    static final String STATE_DIR = "ternstream.kafka.state-dir";
    static final String STANDBY_REPLICAS = "ternstream.kafka.standby-replicas";
    /** exactly-once | at-least-once. */
    static final String DELIVERY = "ternstream.delivery";
    static final String SESSION_TIMEOUT = "ternstream.kafka.session-timeout";
    static final String TOPICS_CREATE = "ternstream.topics.create";
    static final String TOPICS_PARTITIONS = "ternstream.topics.partitions";
    static final String DRAIN_TIMEOUT = "ternstream.scheduler.drain-timeout";
    /** Static group membership (group.instance.id), set from the pod name. */
    static final String GROUP_INSTANCE_ID = "ternstream.kafka.group-instance-id";

    /**
     * The gateway role's settings the manifests use. Where the service on the classpath declares a
     * ternstream.gateway mapping they must be properties it declares, like every other name; without
     * one they are accepted unchecked.
     */
    static final String GATEWAY_PREFIX = "ternstream.gateway";
    static final String GATEWAY_REPLICA_ID = "ternstream.gateway.replica-id";
    static final String GATEWAY_API_KEY_HASHES = "ternstream.gateway.security.api-key-hashes";
    static final String GATEWAY_REQUIRE_API_KEYS = "ternstream.gateway.security.require-api-keys";
    static final Set<String> GATEWAY_PROPERTIES = Set.of(GATEWAY_REPLICA_ID, GATEWAY_API_KEY_HASHES, GATEWAY_REQUIRE_API_KEYS);

    /**
     * Logical topic -> property holding its name. The engine's store changelogs are not among them: Kafka
     * Streams names those after the group id ({@link EngineStores}).
     */
    static final Map<String, String> TOPIC_PROPERTIES = orderedMap(
            "prompts", "ternstream.topics.prompts",
            "replies", "ternstream.topics.replies",
            "dead-letters", "ternstream.topics.dead-letters");

    /** Quarkus settings a deployment may set although the service leaves them at their defaults. */
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
            "quarkus.micrometer.export.prometheus.path", "metrics");

    private static final Pattern EXPRESSION = Pattern.compile("\\$\\{([^}:]+)(?::([^}]*))?}");

    private final Properties properties;
    /** property -> default ("" when it has none) from the @ConfigMapping interface. */
    private final Map<String, String> mapped;
    /** property -> allowed values, for enum-typed properties. */
    private final Map<String, List<String>> enums;

    private ServiceSettings(Properties properties, Map<String, String> mapped, Map<String, List<String>> enums) {
        this.properties = properties;
        this.mapped = mapped;
        this.enums = enums;
    }

    /** The real service: its application.properties and every @ConfigMapping interface in its code. */
    static ServiceSettings load() {
        Class<?> anchor;
        try {
            anchor = Class.forName(CONFIG_MAPPING);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("the service's configuration interface " + CONFIG_MAPPING
                    + " is not on the classpath (deploy-tests depends on module service)", e);
        }
        ServiceSettings s = parse(RepoFiles.read(PROPERTIES));
        var mapped = new TreeMap<String, String>();
        var enums = new TreeMap<String, List<String>>();
        for (Class<?> mapping : configMappings(anchor)) {
            readMapping(mapping, mappingPrefix(mapping), mapped, enums);
        }
        return new ServiceSettings(s.properties, Collections.unmodifiableMap(mapped), Collections.unmodifiableMap(enums));
    }

    /** Every @ConfigMapping interface in the jar or class folder the anchor class comes from. */
    private static List<Class<?>> configMappings(Class<?> anchor) {
        List<String> names = new java.util.ArrayList<>();
        try {
            Path location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(location)) {
                try (var files = Files.walk(location)) {
                    files.filter(f -> f.toString().endsWith(".class"))
                            .forEach(f -> names.add(location.relativize(f).toString()));
                }
            } else {
                try (var jar = new java.util.jar.JarFile(location.toFile())) {
                    jar.stream().map(java.util.jar.JarEntry::getName).filter(n -> n.endsWith(".class")).forEach(names::add);
                }
            }
        } catch (IOException | java.net.URISyntaxException e) {
            throw new IllegalStateException("cannot list the service's classes", e);
        }
        List<Class<?>> mappings = new java.util.ArrayList<>();
        for (String file : names) {
            String name = file.substring(0, file.length() - ".class".length()).replace('/', '.').replace('\\', '.');
            if (name.endsWith("module-info") || name.endsWith("package-info")) {
                continue;
            }
            try {
                Class<?> c = Class.forName(name, false, anchor.getClassLoader()); // no static initialisers run
                if (c.isInterface() && Arrays.stream(c.getAnnotations())
                        .anyMatch(a -> a.annotationType().getSimpleName().equals("ConfigMapping"))) {
                    mappings.add(c);
                }
            } catch (ClassNotFoundException | LinkageError e) {
                // a class whose optional dependencies are absent cannot be a configuration interface we use
            }
        }
        if (mappings.stream().noneMatch(c -> c.getName().equals(CONFIG_MAPPING))) {
            throw new IllegalStateException("no @ConfigMapping found next to " + CONFIG_MAPPING);
        }
        return mappings;
    }

    /** Whether the service declares the gateway's settings (a ternstream.gateway mapping). */
    boolean hasGatewayMapping() {
        return mapped.keySet().stream().anyMatch(p -> p.startsWith(GATEWAY_PREFIX + "."));
    }

    /** application.properties alone (for tests of this reader). */
    static ServiceSettings parse(String text) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("application.properties does not parse: " + e.getMessage(), e);
        }
        return new ServiceSettings(p, Map.of(), Map.of());
    }

    // ---- the @ConfigMapping interface, read the way SmallRye Config maps it ----

    private static String mappingPrefix(Class<?> mapping) {
        for (var a : mapping.getAnnotations()) {
            if (a.annotationType().getSimpleName().equals("ConfigMapping")) {
                return (String) annotationValue(a, "prefix");
            }
        }
        throw new IllegalStateException(mapping.getName() + " has no @ConfigMapping");
    }

    static void readMapping(Class<?> group, String prefix, Map<String, String> out, Map<String, List<String>> enums) {
        for (Method m : group.getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || m.isDefault()
                    || m.getDeclaringClass() == Object.class) {
                continue;
            }
            String name = kebab(m.getName());
            String defaultValue = "";
            for (var a : m.getAnnotations()) {
                switch (a.annotationType().getSimpleName()) {
                    case "WithName" -> name = (String) annotationValue(a, "value");
                    case "WithDefault" -> defaultValue = (String) annotationValue(a, "value");
                    default -> {
                    }
                }
            }
            String property = prefix + "." + name;
            Class<?> type = m.getReturnType();
            if (type.isInterface() && !type.getName().startsWith("java.")) {
                readMapping(type, property, out, enums);
            } else {
                out.put(property, defaultValue);
                if (type.isEnum()) {
                    enums.put(property, Arrays.stream(type.getEnumConstants()).map(Object::toString).toList());
                }
            }
        }
    }

    /** SmallRye's default naming: "bootstrapServers" -> "bootstrap-servers". */
    static String kebab(String method) {
        return method.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    private static Object annotationValue(java.lang.annotation.Annotation a, String member) {
        try {
            return a.annotationType().getMethod(member).invoke(a);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- values ----

    /** The prod-profile value: application.properties, else the mapping's default, else Quarkus'; null if none. */
    String value(String property) {
        return value(property, 0);
    }

    private String value(String property, int depth) {
        String raw = properties.getProperty("%prod." + property, properties.getProperty(property));
        if (raw == null && mapped.containsKey(property)) {
            raw = mapped.get(property);
        }
        if (raw == null) {
            raw = QUARKUS_DEFAULTS.get(property);
        }
        return raw == null ? null : expand(raw, depth);
    }

    String require(String property) {
        String v = value(property);
        if (v == null || v.isBlank()) {
            throw new AssertionError("the service sets no value for " + property);
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

    /** Every property the service declares (mapping and file), profile prefixes removed. */
    Set<String> declared() {
        var names = new TreeSet<>(mapped.keySet());
        for (String key : properties.stringPropertyNames()) {
            names.add(key.startsWith("%") ? key.substring(key.indexOf('.') + 1) : key);
        }
        return names;
    }

    /** The values an enum-typed property accepts (e.g. the roles). */
    List<String> allowedValues(String property) {
        List<String> values = enums.get(property);
        if (values == null) {
            throw new AssertionError(property + " is not an enum property of the service");
        }
        return values;
    }

    /** A duration property in seconds ("10s", "2m", "PT1M", or plain seconds). */
    long seconds(String property) {
        String v = require(property).trim();
        String iso = v.matches("\\d+") ? "PT" + v + "S" : v.startsWith("P") ? v : "PT" + v.toUpperCase(Locale.ROOT);
        return java.time.Duration.parse(iso).toSeconds();
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
        // a relative non-application root sits under the HTTP root path; an absolute one does not
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

    /** Default name of a logical topic (prompts, replies, dead-letters). */
    String topic(String logical) {
        String property = TOPIC_PROPERTIES.get(logical);
        if (property == null) {
            throw new IllegalArgumentException("no topic " + logical);
        }
        return require(property);
    }

    /** Quarkus' environment-variable form of a property: non-alphanumerics become '_', upper case. */
    static String envName(String property) {
        return property.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
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
        return null;
    }

    private static Map<String, String> orderedMap(String... kv) {
        var m = new LinkedHashMap<String, String>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }
}
