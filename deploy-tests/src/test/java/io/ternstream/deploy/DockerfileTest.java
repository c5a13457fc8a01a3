package io.ternstream.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The container image: built from the service module on the project's JDK, run on a JRE with the JVM
 * flags the Vector API needs, the bundled model inside, /models for others, a non-root user.
 */
class DockerfileTest {

    private static final ServiceSettings CONFIG = ServiceSettings.load();
    private final Dockerfile dockerfile = load();

    static Dockerfile load() {
        return Dockerfile.parse(RepoFiles.read("Dockerfile"));
    }

    /** The numeric uid the runtime stage runs as (Kubernetes' runAsUser must name the same). */
    static int runtimeUid() {
        String user = load().runtime().last("USER").arguments().split(":")[0];
        if (!user.matches("\\d+")) {
            throw new AssertionError("USER must be numeric so runAsNonRoot can verify it: " + user);
        }
        return Integer.parseInt(user);
    }

    @Test
    void buildsTheServiceModuleOnTheProjectsJdkAndRunsOnItsJre() {
        String release = PomProperties.get("maven.compiler.release");
        assertEquals(2, dockerfile.stages().size(), "a build stage and a runtime stage");
        Dockerfile.Stage build = dockerfile.stages().getFirst();
        assertEquals("eclipse-temurin:" + release + "-jdk", build.image());
        String run = build.all("RUN").stream().map(Dockerfile.Instruction::arguments).reduce("", String::concat);
        assertTrue(run.contains("./mvnw") && run.contains("-pl service -am") && run.contains(" package"), run);
        assertFalse(run.contains(" install"), "reactor build only; never install into ~/.m2");
        assertEquals("eclipse-temurin:" + release + "-jre", dockerfile.runtime().image(),
                "Temurin's JRE has jdk.incubator.vector; the runtime needs no compiler");
    }

    @Test
    void entrypointPassesTheVectorApiFlagsInExecForm() {
        List<String> entrypoint = Dockerfile.execForm(dockerfile.runtime().last("ENTRYPOINT"));
        assertEquals("java", entrypoint.getFirst());
        for (String flag : PomProperties.get("vector.jvm.args").split("\\s+")) {
            assertTrue(entrypoint.contains(flag), "ENTRYPOINT lacks " + flag + " (pom vector.jvm.args)");
        }
        assertTrue(entrypoint.contains("-Dai.djl.offline=true"), "DJL must not reach the network");
        int jar = entrypoint.indexOf("-jar");
        assertTrue(jar > 0 && jar + 1 < entrypoint.size());
        String jarPath = entrypoint.get(jar + 1);
        assertTrue(jarPath.endsWith("/quarkus-run.jar"), jarPath);
        String appDir = jarPath.substring(0, jarPath.lastIndexOf('/') + 1);
        for (String part : List.of("lib/", "quarkus-run.jar", "app/", "quarkus/")) {
            assertTrue(copiesAppPart(part, appDir),
                    "the fast-jar's " + part + " must land in " + appDir);
        }
        assertFalse(Dockerfile.execForm(dockerfile.runtime().last("CMD")).isEmpty());
    }

    @Test
    void runsAsANonRootUserWithAWritableModelsMountPoint() {
        assertNotEquals(0, runtimeUid(), "non-root");
        String run = dockerfile.runtime().all("RUN").stream().map(Dockerfile.Instruction::arguments).reduce("", String::concat);
        assertTrue(run.contains("mkdir -p /models") && run.contains("chown " + runtimeUid()), "/models for mounted models");
    }

    @Test
    void exposesTheHttpPort() {
        assertTrue(Arrays.asList(dockerfile.runtime().last("EXPOSE").arguments().split("\\s+"))
                .contains(String.valueOf(CONFIG.httpPort())));
    }

    @Test
    void bundlesTheModelAndPointsTheServiceAtIt() {
        String workdir = dockerfile.runtime().last("WORKDIR").arguments();
        String dest = dockerfile.runtime().all("COPY").stream().map(i -> i.arguments().split("\\s+"))
                .filter(a -> a[a.length - 2].replaceFirst("/$", "").equals(defaultModel()))
                .map(a -> a[a.length - 1]).findFirst()
                .orElseThrow(() -> new AssertionError("the bundled model models/ternstream-tiny is not copied in"));
        Path modelDir = Path.of(workdir).resolve(dest).normalize();
        String env = dockerfile.runtime().all("ENV").stream().map(Dockerfile.Instruction::arguments).reduce("", (a, b) -> a + " " + b);
        // the service loads <ternstream.home>/<ServiceLifecycle.DEFAULT_MODEL> when no model folder is configured
        String homeEnv = ServiceSettings.envName(ServiceSettings.HOME);
        Path home = modelDir;
        for (int i = 0; i < Path.of(defaultModel()).getNameCount(); i++) {
            home = home.getParent();
        }
        assertEquals(modelDir, home.resolve(defaultModel()));
        assertTrue(env.contains(homeEnv + "=" + home), "ENV " + homeEnv + "=" + home + " in: " + env);
        assertNotNull(CONFIG.propertyOfEnv(homeEnv), homeEnv + " sets no property of the service");
        assertTrue(env.contains("DJL_CACHE_DIR=/tmp/"), "the tokenizer's native library goes to the writable /tmp");
        Path bundled = RepoFiles.resolve(defaultModel());
        for (String file : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            assertTrue(java.nio.file.Files.isRegularFile(bundled.resolve(file)), "the bundled model has no " + file);
        }
    }

    @Test
    void dockerignoreKeepsSourcesAndModelButNotBuildOutput() {
        List<String> ignored = Arrays.stream(RepoFiles.read(".dockerignore").split("\n"))
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertTrue(ignored.contains("**/target"), "stale build output must not enter the build");
        assertTrue(ignored.contains(".git"));
        for (String kept : List.of("models", "service", "engine", "schemas", "pom.xml", "mvnw", ".mvn")) {
            assertFalse(ignored.stream().anyMatch(i -> i.equals(kept) || i.equals(kept + "/") || i.equals("*")),
                    kept + " is needed by the build");
        }
    }

    /** The bundled model's folder relative to ternstream.home, as the service defines it. */
    static String defaultModel() {
        try {
            return (String) Class.forName("io.ternstream.service.ServiceLifecycle").getField("DEFAULT_MODEL").get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("the service no longer defines ServiceLifecycle.DEFAULT_MODEL", e);
        }
    }

    /** Whether a COPY --from=build puts the fast-jar's {@code part} at {@code appDir + part}. */
    private boolean copiesAppPart(String part, String appDir) {
        String source = "/src/service/target/quarkus-app/" + part;
        Path expected = Path.of(appDir).resolve(part).normalize();
        for (Dockerfile.Instruction copy : dockerfile.runtime().all("COPY")) {
            List<String> words = Arrays.asList(copy.arguments().split("\\s+"));
            if (!words.contains("--from=build") || !words.contains(source)) {
                continue;
            }
            String dest = words.getLast();
            Path target = resolve(dest);
            if (!part.endsWith("/") && dest.endsWith("/")) {
                target = target.resolve(part);
            }
            if (target.equals(expected)) {
                return true;
            }
        }
        return false;
    }

    private Path resolve(String p) {
        return Path.of(dockerfile.runtime().last("WORKDIR").arguments()).resolve(p).normalize();
    }
}
