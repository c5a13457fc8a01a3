package io.ternstream.service.gateway;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The gateway reaches the engines only through Kafka: no session core, no engine role, no model, in its classes. */
class GatewayLayeringTest {
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.ternstream.service.gateway");

    @Test
    void theGatewayTalksToEnginesOnlyThroughKafka() {
        noClasses().that().resideInAPackage("io.ternstream.service.gateway..")
                .should().dependOnClassesThat().resideInAnyPackage("io.ternstream.service.session..", "io.ternstream.service.engine..",
                        "io.ternstream.engine", "io.ternstream.engine.model..", "io.ternstream.engine.state..",
                        "io.ternstream.engine.sampling..")
                .because("gateway pods run without a model; only the tokenizer is used, to count prompt tokens")
                .check(CLASSES);
    }
}
