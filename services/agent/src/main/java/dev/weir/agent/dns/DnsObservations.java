package dev.weir.agent.dns;

import com.google.protobuf.util.Timestamps;
import dev.weir.proto.dns.v1.DnsObservation;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.TracePoint;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names and the addresses DNS answered for them, as this node's pods saw them, for the policy
 * service's toFQDNs rules. Only answers the {@link DnsAnswerGate} trusts are published: a
 * resolver's answer to a query the pod made. A name is published when its answer changes, or again
 * when half its TTL has passed, not for every response; the memory of what was published is
 * bounded. {@link #observe} runs on the flow reader's thread and never waits: records go through a
 * bounded queue to a sender thread of their own, and what does not fit is counted, not waited for.
 */
public final class DnsObservations implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DnsObservations.class);
    private static final int REMEMBERED = 16_384;
    private static final int QUEUED = 4_096;

    private record Published(List<String> ips, long atMillis, long ttlMillis) {
    }

    private final String node;
    private final DnsAnswerGate gate;
    private final Producer<String, byte[]> producer;
    private final String topic;
    private final BlockingQueue<ProducerRecord<String, byte[]>> queue = new ArrayBlockingQueue<>(QUEUED);
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private final Thread sender;
    private volatile boolean closed;
    private final Map<String, Published> recent = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Published> eldest) {
            return size() > REMEMBERED;
        }
    };

    private final ResolvedNames names;

    public DnsObservations(String node, DnsAnswerGate gate, ResolvedNames names, Producer<String, byte[]> producer,
            TopicCatalogue catalogue) {
        this.names = names;
        this.node = node;
        this.gate = gate;
        this.producer = producer;
        this.topic = catalogue.name(TopicId.DNS_OBSERVATIONS);
        this.sender = new Thread(this::send, "weir-dns-observations");
        sender.setDaemon(true);
        sender.start();
    }

    public DnsAnswerGate gate() {
        return gate;
    }

    public void observe(Flow flow) {
        if (!flow.hasDns() || flow.getDns().getQuery().isEmpty() || flow.getIp().getSource().isEmpty()
                || flow.getIp().getDestination().isEmpty()) {
            return;
        }
        var dns = flow.getDns();
        long now = System.nanoTime();
        // The client's own sightings: its query leaving it, the answer entering it.
        if (!dns.getIsResponse() && flow.getTracePoint() == TracePoint.FROM_ENDPOINT) {
            gate.query(address(flow.getIp().getSource()), sourcePort(flow), address(flow.getIp().getDestination()),
                    dns.getId(), dns.getQuery(), now);
            return;
        }
        if (!dns.getIsResponse() || flow.getTracePoint() != TracePoint.TO_ENDPOINT || dns.getRcode() != 0
                || dns.getIpsCount() == 0) {
            return;
        }
        DnsAnswerGate.Accepted answer = gate.answer(address(flow.getIp().getSource()),
                address(flow.getIp().getDestination()), destinationPort(flow), dns.getId(), dns.getQuery(),
                dns.getIpsList(), dns.getTtl(), now);
        if (answer == null) {
            return;
        }
        String name = answer.name();
        List<String> ips = answer.ips().stream().sorted().toList();
        long nowMillis = System.currentTimeMillis();
        // The pod that asked (the answer's receiver) now knows these addresses by this name; on the
        // flows' own clock, which names are looked up by.
        names.learn(flow.getDestination().getId(), name, ips, answer.ttlSeconds(),
                com.google.protobuf.util.Timestamps.toMillis(flow.getTime()));
        Published last = recent.get(name);
        if (last != null && last.ips().equals(ips) && nowMillis - last.atMillis() < last.ttlMillis() / 2) {
            return;
        }
        long ttl = Math.max(1_000L, answer.ttlSeconds() * 1_000L);
        recent.put(name, new Published(ips, nowMillis, ttl));
        DnsObservation observation = DnsObservation.newBuilder().setNodeName(node)
                .setTime(Timestamps.fromMillis(nowMillis))
                .setNamespace(flow.getDestination().getNamespace()).setPodName(flow.getDestination().getPodName())
                .setName(name).addAllIps(ips).addAllCnames(dns.getCnamesList()).setTtl(answer.ttlSeconds())
                .setRcode(dns.getRcode()).build();
        if (!queue.offer(new ProducerRecord<>(topic, name, observation.toByteArray()))) {
            dropped.incrementAndGet();
            recent.remove(name); // not published: try again at the next answer
        }
    }

    private void send() {
        while (!closed || !queue.isEmpty()) {
            try {
                ProducerRecord<String, byte[]> record = queue.poll(200, TimeUnit.MILLISECONDS);
                if (record == null) {
                    continue;
                }
                producer.send(record, (metadata, error) -> {
                    if (error != null) {
                        sendFailures.incrementAndGet();
                        LOG.warn("publishing the DNS observation of {} failed: {}", record.key(), error.getMessage());
                    } else {
                        published.incrementAndGet();
                    }
                });
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                sendFailures.incrementAndGet();
                LOG.warn("publishing a DNS observation failed: {}", e.getMessage());
            }
        }
    }

    private static InetAddress address(String ip) {
        try {
            return InetAddress.getByName(ip); // a literal from the datapath: no lookup happens
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + ip, e);
        }
    }

    private static int sourcePort(Flow flow) {
        return flow.getL4().hasUdp() ? flow.getL4().getUdp().getSourcePort() : flow.getL4().getTcp().getSourcePort();
    }

    private static int destinationPort(Flow flow) {
        return flow.getL4().hasUdp() ? flow.getL4().getUdp().getDestinationPort()
                : flow.getL4().getTcp().getDestinationPort();
    }

    /** Observations that did not fit in the queue (the sender fell behind a slow broker). */
    public long dropped() {
        return dropped.get();
    }

    public long sendFailures() {
        return sendFailures.get();
    }

    public long published() {
        return published.get();
    }

    @Override
    public void close() {
        closed = true;
        try {
            sender.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
