package io.ternstream.engine.cli;

import io.ternstream.engine.Engine;
import io.ternstream.engine.EngineOptions;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The options every model command shares: which folder, how many threads. */
final class ModelOptions {

    /** The bundled model, relative to the repository root the launcher passes as ternstream.home. */

    @Option(names = "--model", paramLabel = "DIR", description = "Hugging Face model folder (default: the bundled " + EngineOptions.BUNDLED_MODEL + ")")
    Path model;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all cores)")
    Integer threads;

    Path modelDir() {
        if (model != null) return model;
        Path bundled = Path.of(System.getProperty("ternstream.home", ".")).resolve(EngineOptions.BUNDLED_MODEL);
        if (!Files.isDirectory(bundled)) throw new IllegalArgumentException("no --model given and no bundled model at " + bundled);
        return bundled;
    }

    Engine open() throws IOException {
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (t < 1) throw new IllegalArgumentException("--threads must be >= 1");
        return Engine.open(modelDir(), new EngineOptions(t));
    }
}
