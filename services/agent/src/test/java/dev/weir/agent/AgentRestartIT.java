package dev.weir.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.weir.common.kafka.KafkaClients;
import dev.weir.platform.Platform;
import dev.weir.platform.PlatformConfig;
import dev.weir.proto.flow.v1.DropReason;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.state.v1.AckStatus;
import dev.weir.proto.state.v1.Direction;
import dev.weir.proto.state.v1.Endpoint;
import dev.weir.proto.state.v1.EndpointPolicyState;
import dev.weir.proto.state.v1.IpcacheEntry;
import dev.weir.proto.state.v1.MapApplyAck;
import dev.weir.proto.state.v1.PolicyMapEntry;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import dev.weir.agent.datapath.NativeArtifacts;
import dev.weir.testbed.Kubelet;
import dev.weir.testbed.PodManifest;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The agent is killed with SIGKILL while a deny is in force: the deny keeps dropping; the
 * restarted agent adopts the pinned maps and the pods weir-cni handed it (nobody calls ADD
 * again), reconciles, answers CHECK, and publishes no duplicate endpoint. Runs the agent as a process of its own, as a DaemonSet runs it. Root only.
 */
class AgentRestartIT {

    static final TopicCatalogue CATALOGUE = TopicCatalogue.standard();
    String node;
    Platform platform;
    Process agent;
    Kubelet kubelet;
    Path pins;

    @AfterEach
    void stop() throws Exception {
        if (agent != null && agent.isAlive()) {
            agent.destroy();
            agent.waitFor(30, TimeUnit.SECONDS);
            agent.destroyForcibly();
        }
        if (kubelet != null) {
            kubelet.close();
        }
        if (platform != null) {
            platform.close();
        }
        new ProcessBuilder("sh", "-c", "for n in $(ip netns list | awk '{print $1}' | grep '^weir-" + node
                + "-'); do ip netns del $n; done; rm -rf " + pins + " " + AgentProcess.stateDir(node)).start().waitFor();
    }

    boolean connect(String fromNetns, String ip) throws Exception {
        Process p = new ProcessBuilder("ip", "netns", "exec", fromNetns, "socat", "-u", "/dev/null",
                "TCP:" + ip + ":8080,connect-timeout=1").redirectErrorStream(true).start();
        return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    @Test
    void aDenyOutlivesTheAgentAndARestartAdoptsWithoutDuplicates() throws Exception {
        node = "rs" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        pins = Path.of("/sys/fs/bpf/weir-" + node);
        int octet = ThreadLocalRandom.current().nextInt(1, 250);
        String ipA = "198.19." + octet + ".20";
        String ipB = "198.19." + octet + ".21";
        Path dir = Path.of("target", "it-" + node).toAbsolutePath();
        platform = new Platform(PlatformConfig.onFreePorts(dir)).start();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                KafkaClients.producerConfig(platform.kafkaBootstrapServers(), "restart-it"));
                TopicReader endpoints = new TopicReader(platform.kafkaBootstrapServers(), CATALOGUE.name(TopicId.ENDPOINTS));
                TopicReader acks = new TopicReader(platform.kafkaBootstrapServers(), CATALOGUE.name(TopicId.MAP_ACKS));
                TopicReader flows = new TopicReader(platform.kafkaBootstrapServers(), CATALOGUE.name(TopicId.FLOWS))) {
            producer.send(new ProducerRecord<>(CATALOGUE.name(TopicId.IPCACHE), ipA + "/32",
                    IpcacheEntry.newBuilder().setIdentity(4000).build().toByteArray())).get();
            producer.send(new ProducerRecord<>(CATALOGUE.name(TopicId.IPCACHE), ipB + "/32",
                    IpcacheEntry.newBuilder().setIdentity(4001).build().toByteArray())).get();

            agent = AgentProcess.start(platform, node, pins, dir.resolve("agent-1.log"));
            kubelet = Kubelet.of(node, platform.kafkaBootstrapServers(), NativeArtifacts.cniPlugin(),
                    AgentProcess.stateDir(node).resolve("cni.sock"));
            kubelet.start(PodManifest.of("x", "a", ipA).withLabels(Map.of("pod", "a")));
            kubelet.start(PodManifest.of("y", "b", ipB).withLabels(Map.of("pod", "b")));
            await().atMost(Duration.ofSeconds(30)).until(() -> !endpoints.matching(r -> r.key().equals(node + "/x/a")).isEmpty()
                    && !endpoints.matching(r -> r.key().equals(node + "/y/b")).isEmpty());
            Endpoint a = Endpoint.parseFrom(endpoints.matching(r -> r.key().equals(node + "/x/a")).get(0).value());
            Endpoint b = Endpoint.parseFrom(endpoints.matching(r -> r.key().equals(node + "/y/b")).get(0).value());
            // Closed until told: no policy selects either pod.
            for (Endpoint e : List.of(a, b)) {
                String key = node + "/" + e.getEndpointId();
                producer.send(new ProducerRecord<>(CATALOGUE.name(TopicId.ENDPOINT_POLICY_STATE), key,
                        EndpointPolicyState.newBuilder().setNodeName(node).setEndpointId(e.getEndpointId()).setRevision(1)
                                .build().toByteArray())).get();
                await().atMost(Duration.ofSeconds(30)).until(() -> acks.matching(r -> r.key().equals(key)).size() == 1);
            }
            String netnsA = "weir-" + node + "-x-a";
            Process server = new ProcessBuilder("ip", "netns", "exec", "weir-" + node + "-y-b", "socat", "-u",
                    "TCP-LISTEN:8080,reuseaddr,fork", "/dev/null").start();
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> connect(netnsA, ipB));

                String stateKey = node + "/" + b.getEndpointId();
                producer.send(new ProducerRecord<>(CATALOGUE.name(TopicId.ENDPOINT_POLICY_STATE), stateKey,
                        EndpointPolicyState.newBuilder().setNodeName(node).setEndpointId(b.getEndpointId()).setRevision(2)
                                .setIngressIsolated(true).addEntries(PolicyMapEntry.newBuilder().setIdentity(4000)
                                        .setDirection(Direction.DIRECTION_INGRESS).setDeny(true).setCookie(9))
                                .build().toByteArray())).get();
                await().atMost(Duration.ofSeconds(30)).until(() -> acks.matching(r -> r.key().equals(stateKey)).size() == 2);
                assertThat(connect(netnsA, ipB)).as("denied while the agent runs").isFalse();

                int publishedBefore = endpoints.matching(r -> r.key().startsWith(node + "/")).size();
                agent.destroyForcibly().waitFor();
                for (int i = 0; i < 3; i++) {
                    assertThat(connect(netnsA, ipB)).as("denied while the agent is dead").isFalse();
                }

                agent = AgentProcess.start(platform, node, pins, dir.resolve("agent-2.log"));
                assertThat(Files.readString(dir.resolve("agent-2.log"))).contains("datapath adopted")
                        .contains("adopted on");
                // It reconciles: the latest replayed revision (never the older one still in the log) is
                // acknowledged again, and still enforced.
                await().atMost(Duration.ofSeconds(30)).until(() -> acks.matching(r -> r.key().equals(stateKey)).size() == 3);
                ConsumerRecord<String, byte[]> ack = acks.matching(r -> r.key().equals(stateKey)).get(2);
                assertThat(MapApplyAck.parseFrom(ack.value()).getRevision()).isEqualTo(2);
                assertThat(MapApplyAck.parseFrom(ack.value()).getStatus()).isEqualTo(AckStatus.APPLIED);
                assertThat(MapApplyAck.parseFrom(ack.value()).getEntriesWritten()).isZero();
                assertThat(connect(netnsA, ipB)).as("denied after the restart").isFalse();
                await().atMost(Duration.ofSeconds(30)).until(() -> flows.matching(r -> node.equals(r.key())).stream()
                        .map(AgentRestartIT::flow).anyMatch(f -> f.getVerdict() == Verdict.DROPPED
                                && f.getDropReason() == DropReason.POLICY_DENY && ipA.equals(f.getIp().getSource())));
                Thread.sleep(2000);
                List<ConsumerRecord<String, byte[]>> published = endpoints.matching(r -> r.key().startsWith(node + "/"));
                assertThat(published).as("endpoint records after the restart: none new").hasSize(publishedBefore);
                assertThat(kubelet.check("x", "a")).as("CHECK after the restart").isEmpty();
                assertThat(kubelet.check("y", "b")).as("CHECK after the restart").isEmpty();
            } finally {
                server.destroyForcibly().waitFor();
            }
        }
    }

    static Flow flow(ConsumerRecord<String, byte[]> record) {
        try {
            return Flow.parseFrom(record.value());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
