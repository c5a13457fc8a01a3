package io.ternstream.benchmarks;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A class loader for one engine build, for the jar A/B tools: the platform loader as parent, so that each
 * build sees its own engine classes and not the ones in this jar, plus the engine's dependencies
 * ({@code -Dlib=DIR}, default {@code engine/target/lib}, where the build copies them), which reflection
 * over the engine's classes needs to resolve their signatures.
 */
final class EngineJarLoader {
    private EngineJarLoader() {
    }

    static URLClassLoader of(Path jar) throws IOException {
        List<URL> urls = new ArrayList<>();
        urls.add(jar.toUri().toURL());
        Path lib = Path.of(System.getProperty("lib", "engine/target/lib"));
        if (Files.isDirectory(lib)) {
            try (Stream<Path> jars = Files.list(lib)) {
                for (Path p : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) urls.add(p.toUri().toURL());
            }
        }
        return new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
    }
}
