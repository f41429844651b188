package dev.weir.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's table for Kafka subscribers says what the catalogue says. */
class ReadmeTopicsTest {

    @Test
    void readmeTopicTableMatchesTheCatalogue() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        int begin = readme.indexOf("<!-- topics:begin");
        int end = readme.indexOf("<!-- topics:end -->");
        assertThat(begin).as("topics table markers in README.md").isNotNegative();
        List<String> documented = new ArrayList<>();
        for (String line : readme.substring(begin, end).split("\n")) {
            if (line.startsWith("| `weir.")) {
                String[] cells = line.split("\\|");
                List<String> row = new ArrayList<>();
                for (int i = 1; i < cells.length; i++) {
                    row.add(cells[i].trim().replace("`", ""));
                }
                documented.add(String.join(" | ", row));
            }
        }
        List<String> catalogued = TopicCatalogue.standard().all().stream()
                .map(t -> String.join(" | ", t.name(), t.key(), t.valueType(), t.cleanup().kafkaValue(),
                        t.retentionText()))
                .toList();
        assertThat(documented).containsExactlyInAnyOrderElementsOf(catalogued);
    }
}
