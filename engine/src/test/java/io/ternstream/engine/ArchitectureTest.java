package io.ternstream.engine;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** The engine is a plain library: no service, messaging or web framework types inside it. */
class ArchitectureTest {

    @Test
    void engineNeverImportsQuarkusKafkaOrHttp() {
        var classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.ternstream.engine");
        noClasses().should().dependOnClassesThat().resideInAnyPackage(
                "io.quarkus..", "org.apache.kafka..", "io.vertx..", "jakarta.ws..", "io.smallrye..", "io.ternstream.service..")
                .check(classes);
    }

    @Test
    void kernelsDoNotDependOnTheModel() {
        var classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.ternstream.engine");
        noClasses().that().resideInAnyPackage("..engine.tensor..", "..engine.parallel..", "..engine.safetensors..")
                .should().dependOnClassesThat().resideInAnyPackage("..engine.model..", "..engine.cli..", "..engine.sampling..")
                .check(classes);
    }
}
