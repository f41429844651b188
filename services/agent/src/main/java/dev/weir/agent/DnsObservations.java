package dev.weir.agent;

import com.google.protobuf.Timestamp;
import dev.weir.proto.dns.v1.DnsObservation;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Names and the addresses DNS answered for them, as this node's pods saw them, for the policy
 * service's toFQDNs rules. A name is published when its answer changes, or again when half its
 * TTL has passed, not for every response; the memory of what was published is bounded.
 * Called on the flow reader's thread.
 */
final class DnsObservations {

    private static final int REMEMBERED = 16_384;

    private record Published(List<String> ips, long atMillis, long ttlMillis) {
    }

    private final String node;
    private final Producer<String, byte[]> producer;
    private final String topic;
    private final Map<String, Published> published = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Published> eldest) {
            return size() > REMEMBERED;
        }
    };

    DnsObservations(String node, Producer<String, byte[]> producer, TopicCatalogue catalogue) {
        this.node = node;
        this.producer = producer;
        this.topic = catalogue.name(TopicId.DNS_OBSERVATIONS);
    }

    void observe(Flow flow) {
        if (!flow.hasDns() || !flow.getDns().getIsResponse() || flow.getDns().getRcode() != 0
                || flow.getDns().getIpsCount() == 0 || flow.getDns().getQuery().isEmpty()) {
            return;
        }
        String name = flow.getDns().getQuery();
        List<String> ips = flow.getDns().getIpsList().stream().sorted().toList();
        long now = System.currentTimeMillis();
        Published last = published.get(name);
        if (last != null && last.ips().equals(ips) && now - last.atMillis() < last.ttlMillis() / 2) {
            return;
        }
        long ttl = Math.max(1_000L, flow.getDns().getTtl() * 1_000L);
        published.put(name, new Published(ips, now, ttl));
        Instant at = Instant.ofEpochMilli(now);
        DnsObservation observation = DnsObservation.newBuilder().setNodeName(node)
                .setTime(Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()))
                .setNamespace(flow.getDestination().getNamespace()).setPodName(flow.getDestination().getPodName())
                .setName(name).addAllIps(ips).addAllCnames(flow.getDns().getCnamesList()).setTtl(flow.getDns().getTtl())
                .setRcode(flow.getDns().getRcode()).build();
        producer.send(new ProducerRecord<>(topic, name, observation.toByteArray()));
    }
}
