package io.ternstream.service;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The layering the service promises: the session core knows no Kafka, HTTP or Quarkus; the engine role's
 * adapters know no HTTP; the contracts are plain records.
 */
class LayeringTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.ternstream.service", "io.ternstream.schemas");

    @Test
    void theSessionCoreKnowsNoKafkaNoHttpAndNoQuarkus() {
        noClasses().that().resideInAPackage("io.ternstream.service.session..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.kafka..", "org.rocksdb..", "jakarta..",
                        "io.vertx..", "io.quarkus..", "io.ternstream.service.engine..", "io.ternstream.service.gateway..",
                        "io.ternstream.service.client..", "io.ternstream.service.kafka..")
                .check(CLASSES);
    }

    @Test
    void theEngineRoleKnowsNoHttpAndNoGateway() {
        noClasses().that().resideInAPackage("io.ternstream.service.engine..")
                .should().dependOnClassesThat().resideInAnyPackage("jakarta.ws..", "io.vertx..", "io.quarkus.websockets..",
                        "io.ternstream.service.gateway..", "io.ternstream.service.client..")
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
                        "io.ternstream.service.session..", "io.ternstream.service.engine..", "io.ternstream.engine..", "kafka..")
                .check(CLASSES);
    }
}
