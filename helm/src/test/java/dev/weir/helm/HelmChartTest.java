package dev.weir.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import dev.weir.agent.AgentConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The chart, with Helm's own engine: lint passes, it renders with its defaults and with the
 * bundled dependencies, and every rendered manifest reads as the Kubernetes API's model with no
 * field the model does not know (a misspelt or misplaced field fails here, not on a cluster).
 */
class HelmChartTest {

    private static final Path CHART = Path.of("weir").toAbsolutePath();
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    @Test
    void helmLintPasses() {
        LintResult lint = new Helm(CHART).lint().strict().call();
        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    }

    @Test
    void everyRenderedManifestIsAValidKubernetesObject() {
        for (List<HasMetadata> manifests : List.of(render(Map.of()), render(Map.of("kafka.bundled.enabled", "true",
                "postgresql.bundled.enabled", "true", "agent.sysAdmin", "true", "networkPolicy.nodeCidrs[0]", "198.18.0.0/24",
                "kafka.clientSecrets.agent", "weir-kafka-agent", "kafka.clientSecrets.policy", "weir-kafka-policy",
                "kafka.clientSecrets.admin", "weir-kafka-admin", "kafka.acls", "true", "kafka.unauthenticated", "true")), render(Map.of("cni.mode", "standalone",
                "cni.standalone.subnet", "198.18.4.0/24")))) {
            assertThat(manifests).isNotEmpty();
            for (HasMetadata manifest : manifests) {
                List<String> unknown = new ArrayList<>();
                unknownFields(manifest, manifest.getKind(), unknown, new HashSet<>());
                assertThat(unknown).as(manifest.getKind() + " " + manifest.getMetadata().getName()).isEmpty();
            }
        }
    }

    @Test
    void theAgentRunsWithTheLeastCapabilitiesOnTheHostNetworkWithTheBpfFilesystem() {
        DaemonSet agent = only(render(Map.of()), DaemonSet.class);
        var pod = agent.getSpec().getTemplate().getSpec();
        assertThat(pod.getHostNetwork()).isTrue();
        Container container = pod.getContainers().get(0);
        assertThat(container.getSecurityContext().getPrivileged()).isFalse();
        assertThat(container.getSecurityContext().getCapabilities().getAdd())
                .containsExactlyInAnyOrder("BPF", "PERFMON", "NET_ADMIN");
        assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/sys/fs/bpf"));
        assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(container.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/run/weir"));
        assertThat(pod.getTolerations()).anyMatch(t -> "Exists".equals(t.getOperator()));
        assertThat(agent.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isEqualTo(1);
    }

    @Test
    void theInitContainerInstallsWeirCniChainedByDefaultAndStandaloneWithTheSubnetAndSetns() {
        var pod = only(render(Map.of()), DaemonSet.class).getSpec().getTemplate().getSpec();
        Container install = pod.getInitContainers().get(0);
        assertThat(install.getArgs()).containsSubsequence("install", "--mode", "chained");
        assertThat(install.getVolumeMounts()).extracting(m -> m.getMountPath())
                .contains("/host/opt/cni/bin", "/host/etc/cni/net.d");
        assertThat(pod.getVolumes()).anyMatch(v -> v.getHostPath() != null && v.getHostPath().getPath().equals("/etc/cni/net.d"));

        var standalone = only(render(Map.of("cni.mode", "standalone", "cni.standalone.subnet", "198.18.4.0/24")),
                DaemonSet.class).getSpec().getTemplate().getSpec();
        assertThat(standalone.getInitContainers().get(0).getArgs()).containsSubsequence("--mode", "standalone",
                "--subnet", "198.18.4.0/24");
        assertThat(standalone.getContainers().get(0).getSecurityContext().getCapabilities().getAdd()).contains("SYS_ADMIN");
    }

    @Test
    void weirNetworkPolicyShipsAsAStructuralCrdWithTheDenyFqdnAndEntityRules() throws Exception {
        var crd = SERIALIZATION.unmarshal(java.nio.file.Files.readString(CHART.resolve("crds/weirnetworkpolicies.yaml")),
                io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class);
        assertThat(crd.getSpec().getGroup()).isEqualTo("weir.dev");
        assertThat(crd.getSpec().getNames().getKind()).isEqualTo("WeirNetworkPolicy");
        var spec = crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties().get("spec");
        assertThat(spec.getProperties()).containsKeys("podSelector", "ingress", "ingressDeny", "egress", "egressDeny");
        var egress = spec.getProperties().get("egress").getItems().getSchema();
        assertThat(egress.getProperties()).containsKeys("to", "ports", "toEntities", "toFQDNs");
        assertThat(egress.getProperties().get("toEntities").getItems().getSchema().getEnum()).hasSize(6);
        // Structural: a node never has both properties and additionalProperties, and every node has a type
        // (but the int-or-string port).
        List<String> problems = new ArrayList<>();
        structural(crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema(), "schema", problems);
        assertThat(problems).isEmpty();
    }

    private static void structural(io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps node, String path,
            List<String> problems) {
        if (node.getProperties() != null && !node.getProperties().isEmpty() && node.getAdditionalProperties() != null) {
            problems.add(path + ": properties and additionalProperties");
        }
        if (node.getType() == null && !Boolean.TRUE.equals(node.getXKubernetesIntOrString())) {
            problems.add(path + ": no type");
        }
        if (node.getProperties() != null) {
            node.getProperties().forEach((name, child) -> structural(child, path + "." + name, problems));
        }
        if (node.getItems() != null && node.getItems().getSchema() != null) {
            structural(node.getItems().getSchema(), path + "[]", problems);
        }
    }

    @Test
    void theChartsAgentAndTheEmbeddedAgentReadTheSameConfigurationKeys() {
        DaemonSet agent = only(render(Map.of()), DaemonSet.class);
        Set<String> chart = agent.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .map(EnvVar::getName).collect(Collectors.toSet());
        // The chart gives agents the tokens' hashes only (WEIR_API_TOKENS_FILE), never a token in clear
        // (WEIR_API_TOKEN, WEIR_API_TOKEN_FILE); Kafka credentials only when a Secret is named.
        Set<String> embedded = new HashSet<>(AgentConfig.KEYS);
        embedded.removeAll(Set.of("WEIR_API_TOKEN", "WEIR_API_TOKEN_FILE", "WEIR_KAFKA_PROPERTIES_FILE",
                "WEIR_PLAINTEXT_LISTENERS"));
        assertThat(chart).isEqualTo(embedded);
        DaemonSet secured = only(render(Map.of("kafka.clientSecrets.agent", "weir-kafka-agent", "kafka.clientSecrets.policy",
                "p", "kafka.clientSecrets.dns", "d", "kafka.clientSecrets.alerting", "a", "kafka.clientSecrets.relay", "r",
                "kafka.clientSecrets.admin", "x")), DaemonSet.class);
        assertThat(secured.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()).extracting(EnvVar::getName)
                .contains("WEIR_KAFKA_PROPERTIES_FILE").doesNotContain("WEIR_KAFKA_UNAUTHENTICATED");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> render(Map.of("kafka.clientSecrets.agent", "weir-kafka-agent")))
                .as("a component without credentials, and no word that none are needed")
                .hasMessageContaining("is required (Kafka carries enforcement)");
        assertThat(agent.getSpec().getTemplate().getSpec().getVolumes()).filteredOn(v -> v.getName().equals("api-token"))
                .singleElement().satisfies(v -> assertThat(v.getSecret().getItems()).extracting(i -> i.getKey())
                        .containsExactly("api-tokens"));
    }

    @Test
    void everyListenerIsOnTlsFromTheSecretOrTheOperatorSaysOtherwise() {
        List<HasMetadata> secured = render(Map.of());
        for (Deployment deployment : secured.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).toList()) {
            var pod = deployment.getSpec().getTemplate().getSpec();
            Container container = pod.getContainers().get(0);
            Map<String, String> env = env(container);
            String name = deployment.getMetadata().getName();
            assertThat(env).as(name).containsEntry("SERVER_SSL_BUNDLE", "weir").containsEntry("WEIR_TLS_BUNDLE", "weir")
                    .containsEntry("SPRING_SSL_BUNDLE_PEM_WEIR_KEYSTORE_CERTIFICATE", "file:/var/run/weir-tls/tls.crt")
                    .containsEntry("SPRING_SSL_BUNDLE_PEM_WEIR_KEYSTORE_PRIVATEKEY", "file:/var/run/weir-tls/tls.key")
                    .containsEntry("SPRING_SSL_BUNDLE_PEM_WEIR_TRUSTSTORE_CERTIFICATE", "file:/var/run/weir-tls/ca.crt");
            assertThat(container.getReadinessProbe().getHttpGet().getScheme()).as(name).isEqualTo("HTTPS");
            assertThat(container.getLivenessProbe().getHttpGet().getScheme()).as(name).isEqualTo("HTTPS");
            assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("tls")).singleElement()
                    .satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("weir-tls"));
            if (name.equals("weir-relay")) {
                assertThat(env.get("WEIR_POLICY_API")).startsWith("https://weir-policy:");
                assertThat(env.get("WEIR_DNS_API")).startsWith("https://weir-dns:");
                assertThat(env.get("WEIR_ALERTING_API")).startsWith("https://weir-alerting:");
            }
        }
        Container agent = only(secured, DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(env(agent)).containsEntry("WEIR_TLS_CERT_FILE", "/etc/weir/tls/tls.crt")
                .containsEntry("WEIR_TLS_KEY_FILE", "/etc/weir/tls/tls.key").doesNotContainKey("WEIR_PLAINTEXT_LISTENERS");
        assertThat(agent.getReadinessProbe().getHttpGet().getScheme()).isEqualTo("HTTPS");

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> render(Map.of("tls.disabled", "false")))
                .as("no Secret, and no word that plaintext will do").hasMessageContaining("tls.secretName is required");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> render(Map.of("tls.secretName", "weir-tls")))
                .as("the agents on the services' key").hasMessageContaining("tls.agentSecretName is required");
        assertThat(only(secured, DaemonSet.class).getSpec().getTemplate().getSpec().getVolumes())
                .filteredOn(v -> v.getName().equals("tls")).singleElement()
                .satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("weir-agent-tls"));

        List<HasMetadata> plaintext = render(Map.of("tls.disabled", "true"));
        Container plainAgent = only(plaintext, DaemonSet.class).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(env(plainAgent)).containsEntry("WEIR_PLAINTEXT_LISTENERS", "true").doesNotContainKey("WEIR_TLS_CERT_FILE");
        assertThat(plainAgent.getReadinessProbe().getHttpGet().getScheme()).isEqualTo("HTTP");
        for (Deployment deployment : plaintext.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).toList()) {
            assertThat(env(deployment.getSpec().getTemplate().getSpec().getContainers().get(0)))
                    .doesNotContainKey("SERVER_SSL_BUNDLE");
        }
    }

    @Test
    void eachServiceMayHaveADatabaseRoleOfItsOwnAndTheRelayNone() {
        Map<String, Deployment> shared = deployments(render(Map.of()));
        for (String name : List.of("weir-policy", "weir-dns", "weir-alerting")) {
            assertThat(env(shared.get(name).getSpec().getTemplate().getSpec().getContainers().get(0)))
                    .containsEntry("SPRING_DATASOURCE_USERNAME", "weir");
        }
        assertThat(env(shared.get("weir-relay").getSpec().getTemplate().getSpec().getContainers().get(0)))
                .doesNotContainKeys("SPRING_DATASOURCE_USERNAME", "SPRING_DATASOURCE_PASSWORD");
        Map<String, Deployment> own = deployments(render(Map.of("tls.secretName", "weir-tls",
                "tls.agentSecretName", "weir-agent-tls", "postgresql.roles.policy.username", "weir_policy", "postgresql.roles.policy.existingSecret", "pg-policy")));
        Container policy = own.get("weir-policy").getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(env(policy)).containsEntry("SPRING_DATASOURCE_USERNAME", "weir_policy");
        assertThat(policy.getEnv()).filteredOn(v -> v.getName().equals("SPRING_DATASOURCE_PASSWORD")).singleElement()
                .satisfies(v -> assertThat(v.getValueFrom().getSecretKeyRef().getName()).isEqualTo("pg-policy"));
        assertThat(env(own.get("weir-dns").getSpec().getTemplate().getSpec().getContainers().get(0)))
                .containsEntry("SPRING_DATASOURCE_USERNAME", "weir");
    }

    @Test
    void theGrafanaDashboardShipsForTheSidecarAndQueriesOnlyDocumentedMetrics() throws Exception {
        List<HasMetadata> manifests = render(Map.of());
        io.fabric8.kubernetes.api.model.ConfigMap dashboard = manifests.stream()
                .filter(io.fabric8.kubernetes.api.model.ConfigMap.class::isInstance)
                .map(io.fabric8.kubernetes.api.model.ConfigMap.class::cast)
                .filter(c -> c.getMetadata().getName().endsWith("-dashboard")).findFirst().orElseThrow();
        assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
        @SuppressWarnings("unchecked")
        Map<String, Object> json = SERIALIZATION.unmarshal(dashboard.getData().get("weir.json"), Map.class);
        assertThat(json.get("uid")).isEqualTo("weir-overview");
        // Every query names metrics the README documents (histograms by their base name).
        String readme = java.nio.file.Files.readString(Path.of("..", "README.md"));
        Set<String> queried = new java.util.TreeSet<>();
        for (Object panel : (List<?>) json.get("panels")) {
            Object targets = ((Map<?, ?>) panel).get("targets");
            for (Object target : targets == null ? List.of() : (List<?>) targets) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("weir_[a-z_]+")
                        .matcher((String) ((Map<?, ?>) target).get("expr"));
                while (m.find()) {
                    queried.add(m.group().replaceAll("_(bucket|count|sum)$", ""));
                }
            }
        }
        assertThat(queried).hasSizeGreaterThanOrEqualTo(15)
                .allSatisfy(metric -> assertThat(readme).as(metric).contains("`" + metric + "`"));
        assertThat(render(Map.of("grafana.dashboard.enabled", "false")))
                .noneMatch(m -> m.getMetadata().getName().endsWith("-dashboard"));
    }

    private static Map<String, Deployment> deployments(List<HasMetadata> manifests) {
        Map<String, Deployment> byName = new java.util.HashMap<>();
        manifests.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
                .forEach(d -> byName.put(d.getMetadata().getName(), d));
        return byName;
    }

    private static Map<String, String> env(Container container) {
        Map<String, String> env = new java.util.HashMap<>();
        for (EnvVar variable : container.getEnv()) {
            env.put(variable.getName(), variable.getValue());
        }
        return env;
    }

    @Test
    void servicesRunAsNonRootWithProbesResourcesAndADisruptionBudget() {
        List<HasMetadata> manifests = render(Map.of());
        List<Deployment> deployments = manifests.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast)
                .toList();
        assertThat(deployments).extracting(d -> d.getMetadata().getName()).containsExactlyInAnyOrder("weir-policy", "weir-dns",
                "weir-alerting", "weir-relay");
        for (Deployment deployment : deployments) {
            var pod = deployment.getSpec().getTemplate().getSpec();
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
            Container container = pod.getContainers().get(0);
            assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/readiness");
            assertThat(container.getLivenessProbe()).isNotNull();
            assertThat(container.getResources().getRequests()).containsKeys("cpu", "memory");
        }
        assertThat(manifests).filteredOn(m -> m.getKind().equals("PodDisruptionBudget")).hasSize(4);
        assertThat(manifests).filteredOn(m -> m.getKind().equals("NetworkPolicy")).hasSize(1);
        assertThat(manifests).filteredOn(m -> m.getKind().equals("ClusterRole")).hasSize(1);
    }

    private static List<HasMetadata> render(Map<String, String> values) {
        var template = new Helm(CHART).template().withName("weir").withNamespace("weir-system");
        if (values.keySet().stream().noneMatch(k -> k.startsWith("kafka.clientSecrets"))) {
            template.set("kafka.unauthenticated", "true"); // else the chart refuses: see below
        }
        if (values.keySet().stream().noneMatch(k -> k.startsWith("tls."))) {
            template.set("tls.secretName", "weir-tls"); // else the chart refuses: see below
            template.set("tls.agentSecretName", "weir-agent-tls");
        }
        values.forEach(template::set);
        String rendered = template.call();
        List<HasMetadata> manifests = new ArrayList<>();
        for (String document : rendered.split("(?m)^---\\s*$")) {
            if (document.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
                continue;
            }
            manifests.add(SERIALIZATION.unmarshal(document));
        }
        return manifests;
    }

    private static <T> T only(List<HasMetadata> manifests, Class<T> type) {
        List<T> found = manifests.stream().filter(type::isInstance).map(type::cast).toList();
        assertThat(found).hasSize(1);
        return found.get(0);
    }

    /** Fields the model did not recognise end up in additionalProperties: collect their paths. */
    private static void unknownFields(Object node, String path, List<String> unknown, Set<Object> seen) {
        if (node == null || !seen.add(node)) {
            return;
        }
        if (node instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                unknownFields(item, path + "[" + i++ + "]", unknown, seen);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> unknownFields(v, path + "." + k, unknown, seen));
            return;
        }
        if (!(node instanceof KubernetesResource)) {
            return;
        }
        for (Method method : node.getClass().getMethods()) {
            if (method.getParameterCount() != 0 || !method.getName().startsWith("get") || method.getDeclaringClass() == Object.class) {
                continue;
            }
            try {
                Object value = method.invoke(node);
                if (method.getName().equals("getAdditionalProperties")) {
                    if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                        unknown.add(path + ": " + extra.keySet());
                    }
                } else {
                    unknownFields(value, path + "." + method.getName().substring(3), unknown, seen);
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Test
    void theBundledKafkaAndPostgresqlTakeConnectionsFromWeirOnly() {
        List<HasMetadata> manifests = render(Map.of("kafka.bundled.enabled", "true", "postgresql.bundled.enabled", "true",
                "networkPolicy.nodeCidrs[0]", "198.18.0.0/24"));
        io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy bundled = manifests.stream()
                .filter(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class::isInstance)
                .map(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class::cast)
                .filter(p -> p.getMetadata().getName().equals("weir-bundled")).findFirst().orElseThrow();
        assertThat(bundled.getSpec().getIngress()).singleElement().satisfies(rule -> assertThat(rule.getFrom())
                .extracting(peer -> peer.getIpBlock() == null ? "pods" : peer.getIpBlock().getCidr())
                .containsExactly("pods", "198.18.0.0/24"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> render(Map.of("kafka.bundled.enabled", "true")))
                .hasMessageContaining("networkPolicy.nodeCidrs is required");
    }
}
