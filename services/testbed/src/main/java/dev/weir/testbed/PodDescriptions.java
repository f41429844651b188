package dev.weir.testbed;

import dev.weir.common.kafka.KafkaClients;
import dev.weir.proto.state.v1.NamedPort;
import dev.weir.proto.state.v1.Pod;
import dev.weir.proto.state.v1.Protocol;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The testbed's stand-in for the cluster's metadata watcher: describes its pods on the pods
 * topic (labels, named ports, workload, node), where the agents read them. Each write waits for
 * the broker, so a pod is described before it is handed over.
 */
public final class PodDescriptions implements AutoCloseable {

    private final KafkaProducer<String, byte[]> producer;
    private final String topic;

    public PodDescriptions(String unauthenticatedBootstrap, String clientId) {
        this(dev.weir.common.kafka.KafkaConnection.unauthenticated(unauthenticatedBootstrap), clientId);
    }

    public PodDescriptions(dev.weir.common.kafka.KafkaConnection kafka, String clientId) {
        this.producer = new KafkaProducer<>(KafkaClients.producerConfig(kafka, clientId));
        this.topic = TopicCatalogue.standard().name(TopicId.PODS);
    }

    public static Pod describe(PodManifest manifest, String node) {
        Pod.Builder pod = Pod.newBuilder().setNamespace(manifest.namespace()).setName(manifest.pod()).setNodeName(node)
                .putAllLabels(manifest.labels()).addIps(manifest.ip())
                .setWorkloadName(manifest.workloadName() == null ? "" : manifest.workloadName())
                .setWorkloadKind(manifest.workloadKind() == null ? "" : manifest.workloadKind());
        for (PodManifest.NamedPort port : manifest.namedPorts()) {
            Protocol protocol = Protocol.forNumber(port.protocol());
            pod.addNamedPorts(NamedPort.newBuilder().setName(port.name()).setPort(port.port())
                    .setProtocol(protocol == null ? Protocol.PROTOCOL_ANY : protocol));
        }
        return pod.build();
    }

    public void publish(PodManifest manifest, String node) {
        publish(describe(manifest, node));
    }

    /** A pod as the API server describes it (its addresses may not be known yet: the runtime's IPAM gives them). */
    public void publish(Pod pod) {
        send(pod.getNamespace() + "/" + pod.getName(), pod.toByteArray());
    }

    public void remove(String namespace, String pod) {
        send(namespace + "/" + pod, null);
    }

    private void send(String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted describing " + key, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("describing pod " + key + " failed: " + e, e);
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
