package dev.weir.schemas.yaml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StrictYamlTest {

    @Test
    void plainDocumentsComeBackAsMapsAndLists() {
        List<Object> docs = StrictYaml.loadAll("a: 1\nb: [x, \"y\"]\n---\nc: true\n---\n");
        assertThat(docs).containsExactly(Map.of("a", 1, "b", List.of("x", "y")), Map.of("c", true));
    }

    @Test
    void aliasesAnchorsAndDuplicatesAreRefusedNamingWhere() {
        assertThatThrownBy(() -> StrictYaml.loadAll("ns: &n shop\nnamespace: *n\n"))
                .isInstanceOf(StrictYaml.InvalidYaml.class).hasMessageContaining("line 1").hasMessageContaining("aliases");
        assertThatThrownBy(() -> StrictYaml.loadAll("a: &x [1]\nb: [*x, *x]\n")).hasMessageContaining("aliases");
        assertThatThrownBy(() -> StrictYaml.loadAll("kind: A\nkind: B\n")).hasMessageContaining("duplicate key");
    }

    @Test
    void numbersThatAreNotFiniteAndKeysThatAreNotStringsAreRefused() {
        assertThatThrownBy(() -> StrictYaml.loadAll("spec:\n  x: .nan\n")).hasMessageContaining("spec.x");
        assertThatThrownBy(() -> StrictYaml.loadAll("x: 1e400\n")).hasMessageContaining("finite");
        assertThatThrownBy(() -> StrictYaml.loadAll("x: -.inf\n")).hasMessageContaining("finite");
        assertThatThrownBy(() -> StrictYaml.loadAll("80: http\n")).hasMessageContaining("not a string");
        assertThatThrownBy(() -> StrictYaml.loadAll("x: !!binary aGVsbG8=\n")).hasMessageContaining("not accepted");
    }

    @Test
    void aDocumentOverTheLimitIsRefusedBeforeParsing() {
        String big = "# " + "x".repeat(2000) + "\na: 1\n";
        assertThatThrownBy(() -> StrictYaml.loadAll(big, 1000)).hasMessageContaining("longer than 1000");
        assertThat(StrictYaml.loadAll(big, 4000)).hasSize(1);
    }

    @Test
    void brokenYamlIsAnInvalidYamlNotAnEngineException() {
        assertThatThrownBy(() -> StrictYaml.loadAll("a: [1, 2\n")).isInstanceOf(StrictYaml.InvalidYaml.class)
                .hasMessageContaining("not valid YAML");
    }

    @Test
    void deepNestingAndHugeNumbersAreRefusedBeforeTheyCostAnything() {
        String deep = "a: " + "[".repeat(100) + "]".repeat(100) + "\n";
        assertThatThrownBy(() -> StrictYaml.loadAll(deep)).hasMessageContaining("nested deeper than 64");
        assertThatThrownBy(() -> StrictYaml.loadAll("port: " + "9".repeat(500_000) + "\n"))
                .hasMessageContaining("a number of more than 64");
        assertThat(StrictYaml.loadAll("a: '" + "9".repeat(500) + "'\n")).hasSize(1);
        assertThat(StrictYaml.loadAll("digest: " + "ab12cd34".repeat(16) + "\n")).as("a hash is text").hasSize(1);
    }
}
