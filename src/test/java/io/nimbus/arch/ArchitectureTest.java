package io.nimbus.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.core.UriInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The house rules that keep protocol cores pure and nodes buildable many times in one JVM.
 */
class ArchitectureTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMain() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.nimbus");
    }

    @Test
    void coresUseOnlyTheJdkBasicsAndEachOther() {
        ArchRule rule = classes().that().resideInAPackage("io.nimbus.core..")
                .should().onlyDependOnClassesThat().resideInAnyPackage(
                        "io.nimbus.core..", "java.lang", "java.lang.invoke", "java.lang.runtime", "java.util",
                        "java.util.function", "java.util.stream", "java.util.random")
                .because("protocol cores take messages and time as inputs: no framework, storage, network, "
                        + "threads, files or clocks (see docs/ARCHITECTURE.md)");
        rule.check(main);
    }

    @Test
    void coresNeverReadTheClockOrStartThreads() {
        ArchRule rule = noClasses().that().resideInAPackage("io.nimbus.core..")
                .should().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().dependOnClassesThat().areAssignableTo(Thread.class)
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.util.Random");
        rule.check(main);
    }

    @Test
    void noStaticMutableState() {
        ArchRule rule = fields().that().areDeclaredInClassesThat().resideInAPackage("io.nimbus..")
                .and().areStatic()
                .should().haveModifier(JavaModifier.FINAL)
                .because("a node is an object graph that can be built several times in one JVM");
        rule.check(main);
    }

    @Test
    void onlyTheApiSpeaksHttp() {
        noClasses().that().resideOutsideOfPackage("io.nimbus.api..")
                .should().dependOnClassesThat().resideInAnyPackage("jakarta.ws.rs..", "org.jboss.resteasy..")
                .because("a request's fate is a Result from the core to the API; only api/ chooses HTTP statuses")
                .check(main);
    }

    @Test
    void theClusterShellsAreSplitByRoleAndTheTransportKnowsNoProtocol() {
        noClasses().that().resideInAPackage("io.nimbus.cluster.transport..")
                .should().dependOnClassesThat().resideInAnyPackage("io.nimbus.cluster.membership..",
                        "io.nimbus.cluster.topology..", "io.nimbus.cluster.replica..", "io.nimbus.cluster.coordinator..",
                        "io.nimbus.storage..")
                .check(main);
        noClasses().that().resideInAPackage("io.nimbus.cluster.replica..")
                .should().dependOnClassesThat().resideInAnyPackage("io.nimbus.cluster.coordinator..",
                        "io.nimbus.cluster.membership..")
                .because("a replica answers what it is asked; it never coordinates or gossips")
                .check(main);
    }

    @Test
    void noRequestHandlingBuildsAnAbsoluteUri() {
        noClasses().should().callMethod(UriInfo.class, "getRequestUri")
                .orShould().callMethod(UriInfo.class, "getRequestUriBuilder")
                .orShould().callMethod(UriInfo.class, "getAbsolutePath")
                .orShould().callMethod(UriInfo.class, "getAbsolutePathBuilder")
                .orShould().callMethod(UriInfo.class, "getBaseUri")
                .orShould().callMethod(UriInfo.class, "getBaseUriBuilder")
                .orShould().callMethod(HttpServerRequest.class, "absoluteURI")
                .because("an HTTP/1.0 request may come without a Host, so there is no absolute URI to build "
                        + "(it made every error a 500); use the raw path and query")
                .check(main);
    }

    @Test
    void theApiDoesNotReachIntoStorageFiles() {
        noClasses().that().resideInAPackage("io.nimbus.api..")
                .should().dependOnClassesThat().resideInAPackage("org.mapdb..")
                .check(main);
    }
}
