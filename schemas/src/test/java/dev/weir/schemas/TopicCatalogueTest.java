package dev.weir.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TopicCatalogueTest {

    private final TopicCatalogue catalogue = TopicCatalogue.standard();

    @Test
    void declaresEveryTopicTheCodeUsesAndNoOther() {
        Set<TopicId> declared = catalogue.all().stream().map(TopicSpec::id).collect(Collectors.toSet());
        assertThat(declared).containsExactlyInAnyOrder(TopicId.values());
    }

    @Test
    void everyValueTypeIsAGeneratedMessage() {
        for (TopicSpec topic : catalogue.all()) {
            if (topic.id() == TopicId.DEAD_LETTER) {
                assertThat(topic.valueType()).isEqualTo(TopicSpec.RAW_BYTES);
            } else {
                assertThat(ProtoTypes.valueType(topic)).as(topic.name()).isPresent();
            }
        }
        assertThat(ProtoTypes.valueType(catalogue.spec(TopicId.FLOWS)).orElseThrow().getDescriptorForType().getFullName())
                .isEqualTo("weir.flow.v1.Flow");
    }

    @Test
    void desiredStateTopicsAreCompactedAndKeptForever() {
        Set<TopicId> desiredState = Set.of(TopicId.IDENTITIES, TopicId.IPCACHE, TopicId.ENDPOINT_POLICY_STATE,
                TopicId.ENDPOINTS);
        for (TopicId id : desiredState) {
            TopicSpec spec = catalogue.spec(id);
            assertThat(spec.compacted()).as(spec.name()).isTrue();
            assertThat(spec.kafkaConfigs()).containsEntry("cleanup.policy", "compact").containsEntry("retention.ms", "-1");
        }
        assertThat(catalogue.spec(TopicId.FLOWS).compacted()).isFalse();
        assertThat(catalogue.spec(TopicId.FLOWS).retention()).contains(Duration.ofDays(7));
    }

    @Test
    void topicNamesAreUniqueAndVersioned() {
        assertThat(catalogue.all()).extracting(TopicSpec::name).doesNotHaveDuplicates()
                .allMatch(name -> name.startsWith("weir.") && name.matches(".*\\.v[0-9]+"));
    }

    @Test
    void aBadEntryIsReportedWithItsField() {
        assertThatThrownBy(() -> parse("""
                topics:
                  - id: flows
                    name: weir.flows.v1
                    key: node
                    value: weir.flow.v1.Flow
                    partitions: 0
                    cleanup: delete
                    retention: P7D
                    description: x
                """)).hasMessage("topics[0].partitions: must be a positive integer");
        assertThatThrownBy(() -> parse("""
                topics:
                  - id: flows
                    name: weir.flows.v1
                    key: node
                    value: weir.flow.v1.Flow
                    partitions: 1
                    cleanup: sometimes
                    retention: P7D
                    description: x
                """)).hasMessage("topics[0].cleanup: 'sometimes' is neither compact nor delete");
        assertThatThrownBy(() -> parse("""
                topics:
                  - id: not-a-topic
                """)).hasMessageContaining("topics[0].id: 'not-a-topic' is not a topic the code knows");
    }

    @Test
    void aTopicTheCodeUsesButTheCatalogueLacksIsAnError() {
        assertThatThrownBy(() -> parse("topics: []"))
                .hasMessageStartingWith("topics used by the code but not declared: ")
                .hasMessageContaining(Arrays.stream(TopicId.values()).findFirst().orElseThrow().catalogueId());
    }

    private static TopicCatalogue parse(String yaml) {
        return TopicCatalogue.parse(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)));
    }
}
