package dev.weir.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The product does not depend on its harness: no module that ships (the agent, the services, the
 * command line, the libraries they share) depends on the testbed but for its tests.
 */
class ProductIndependenceTest {

    static final Path ROOT = Path.of("..", "..").toAbsolutePath().normalize();
    static final List<String> PRODUCT = List.of("schemas", "services/common", "services/agent",
            "services/policy/model", "services/policy/service", "services/dns", "services/alerting", "services/relay",
            "services/cli");
    static final Pattern DEPENDENCY = Pattern.compile("<dependency>(.*?)</dependency>", Pattern.DOTALL);

    @Test
    void noShippedModuleDependsOnTheTestbedButForItsTests() throws Exception {
        List<String> found = new ArrayList<>();
        for (String module : PRODUCT) {
            String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"));
            assertThat(pom).as(module).contains("<artifactId>");
            Matcher m = DEPENDENCY.matcher(pom);
            while (m.find()) {
                String dependency = m.group(1);
                if (dependency.contains("<artifactId>weir-testbed</artifactId>")
                        && !dependency.contains("<scope>test</scope>")) {
                    found.add(module);
                }
            }
        }
        assertThat(found).as("modules that ship with the testbed").isEmpty();
        // And the agent's code names none of the testbed's classes.
        try (var files = Files.walk(ROOT.resolve("services/agent/src/main/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                assertThat(Files.readString(file)).as(file.toString()).doesNotContain("dev.weir.testbed");
            }
        }
    }
}
