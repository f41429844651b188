package dev.weir.common.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Label selectors as Hubble's --label takes them, against labels as Weir's flows carry them. */
class LabelSelectorTest {

    /** A pod's labels as the agent writes them (no source: Kubernetes), and identity labels. */
    static final List<String> CART = List.of("app=cart", "tier=backend", "k8s:io.kubernetes.pod.namespace=shop");

    static boolean matches(String selector, List<String> labels) {
        return LabelSelector.parse(selector).matches(labels);
    }

    @Test
    void aKeyWithoutASourceMatchesAnySourceAndK8sMatchesPodLabels() {
        assertThat(matches("app=cart", CART)).isTrue();
        assertThat(matches("k8s:app=cart", CART)).isTrue();
        assertThat(matches("any:app=cart", CART)).isTrue();
        assertThat(matches("reserved:app=cart", CART)).isFalse();
        assertThat(matches("io.kubernetes.pod.namespace=shop", CART)).isTrue();
        assertThat(matches("app=api", CART)).isFalse();
        assertThat(matches("app==cart", CART)).isTrue();
    }

    @Test
    void requirementsJoinedByCommasMustAllHold() {
        assertThat(matches("app=cart,tier=backend", CART)).isTrue();
        assertThat(matches("app=cart, tier=frontend", CART)).isFalse();
        assertThat(matches("app in (api,cart),!legacy", CART)).isTrue();
        assertThat(matches("app notin (api,cart)", CART)).isFalse();
        assertThat(matches("app!=api", CART)).isTrue();
        assertThat(matches("app!=cart", CART)).isFalse();
        assertThat(matches("tier", CART)).isTrue();
        assertThat(matches("!tier", CART)).isFalse();
        // A label without a value (an identity's) exists, and equals the empty value.
        assertThat(matches("reserved:world", List.of("reserved:world"))).isTrue();
        assertThat(matches("world", List.of("reserved:world"))).isTrue();
        assertThat(matches("k8s:world", List.of("reserved:world"))).isFalse();
    }

    @Test
    void whatIsNoSelectorIsRefusedNamingIt() {
        for (String bad : List.of("", "app=cart,", "=cart", "app=ca rt", "app in (a b)", "app=(x)", "Bad Key=1")) {
            assertThatThrownBy(() -> LabelSelector.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> LabelSelector.parse("a=" + "x".repeat(LabelSelector.MAX_LENGTH)))
                .hasMessageContaining("at most");
        assertThatThrownBy(() -> LabelSelector.parse("a,".repeat(LabelSelector.MAX_REQUIREMENTS) + "a"))
                .hasMessageContaining("requirements");
        assertThatThrownBy(() -> FlowFilters.check(List.of(dev.weir.proto.observer.v1.FlowFilter.newBuilder()
                .addDestinationLabel("app=").addDestinationLabel("a b").build()), List.of()))
                .hasMessageStartingWith("destination_label: ");
    }
}
