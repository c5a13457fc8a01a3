package io.ternstream.service;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The layering the service promises: no HTTP in the scheduler, no Kafka or Quarkus in the contracts. */
class LayeringTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.ternstream.service", "io.ternstream.schemas");

    @Test
    void theSchedulerKnowsNoHttpAndNoGateway() {
        noClasses().that().resideInAPackage("io.ternstream.service.scheduler..")
                .should().dependOnClassesThat().resideInAnyPackage("jakarta.ws..", "io.vertx..", "io.quarkus.websockets..",
                        "io.ternstream.service.api..", "io.ternstream.service.client..")
                .check(CLASSES);
    }

    @Test
    void contractsArePlainRecords() {
        noClasses().that().resideInAPackage("io.ternstream.schemas..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka..", "io.quarkus..", "io.ternstream.service..",
                        "io.ternstream.engine..")
                .check(CLASSES);
    }

    @Test
    void theClientNeedsNoServer() {
        noClasses().that().resideInAPackage("io.ternstream.service.client..")
                .should().dependOnClassesThat().resideInAnyPackage("io.quarkus..", "jakarta.enterprise..",
                        "io.ternstream.service.scheduler..", "io.ternstream.engine..", "kafka..")
                .check(CLASSES);
    }
}
