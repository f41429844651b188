package dev.weir.cli.doctor;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** What a node needs beyond its datapath: Kafka reachable, Weir's consumers keeping up, the agent alive, a true clock. */
public final class ClusterChecks {


    private ClusterChecks() {
    }

    /** Kafka answers, and each of Weir's consumer groups is no more than lagWarn records behind. */
    public static List<Finding> kafka(String bootstrap, java.nio.file.Path clientProperties, long lagWarn) {
        List<Finding> findings = new ArrayList<>();
        Properties config = new Properties();
        if (clientProperties != null) {
            try (var in = java.nio.file.Files.newBufferedReader(clientProperties)) {
                config.load(in);
            } catch (java.io.IOException e) {
                return List.of(Finding.fail("kafka", "cannot read the Kafka client properties " + clientProperties
                        + " (" + e.getMessage() + ")", "give --kafka-properties a readable file"));
            }
        }
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 8000);
        try (Admin admin = Admin.create(config)) {
            int brokers;
            try {
                brokers = admin.describeCluster().nodes().get(8, TimeUnit.SECONDS).size();
            } catch (Exception e) {
                findings.add(Finding.fail("kafka", "cannot reach Kafka at " + bootstrap + " (" + rootCause(e) + "): flows "
                        + "and policy updates queue on the agent until it is back",
                        "check the bootstrap address (--kafka or WEIR_KAFKA_BOOTSTRAP), the brokers, and any "
                        + "NetworkPolicy between this node and them"));
                return findings;
            }
            findings.add(Finding.ok("kafka", brokers + " broker(s) answer at " + bootstrap));
            for (ConsumerGroupListing group : admin.listConsumerGroups().all().get(8, TimeUnit.SECONDS)) {
                if (!group.groupId().startsWith("weir")) {
                    continue;
                }
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group.groupId())
                        .partitionsToOffsetAndMetadata().get(8, TimeUnit.SECONDS);
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                committed.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
                Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
                        admin.listOffsets(latest).all().get(8, TimeUnit.SECONDS);
                long lag = 0;
                for (Map.Entry<TopicPartition, OffsetAndMetadata> e : committed.entrySet()) {
                    if (e.getValue() != null && ends.containsKey(e.getKey())) {
                        lag += Math.max(0, ends.get(e.getKey()).offset() - e.getValue().offset());
                    }
                }
                String message = "consumer group " + group.groupId() + " is " + lag + " record(s) behind";
                findings.add(lag > lagWarn ? Finding.warn("consumer lag", message,
                        "scale the service out (more replicas share the partitions) or find what slows it "
                        + "(its metrics: records consumed per second, processing time)") : Finding.ok("consumer lag", message));
            }
        } catch (Exception e) {
            findings.add(Finding.warn("consumer lag", "could not read consumer groups: " + rootCause(e),
                    "the API token's Kafka user needs Describe on the groups"));
        }
        return findings;
    }

    /** The agent on this node answers its health check. */
    public static Finding agent(HttpClient http, String agentUrl) {
        try {
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(agentUrl + "/healthz"))
                    .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            return health.statusCode() == 200 ? Finding.ok("agent", "healthy at " + agentUrl)
                    : Finding.fail("agent", "unhealthy at " + agentUrl + " (" + health.statusCode() + ")",
                            "read the agent's log (kubectl logs) for why its datapath or Kafka connection failed");
        } catch (Exception e) {
            return Finding.fail("agent", "no agent answers at " + agentUrl + " (" + rootCause(e) + ")",
                    "is the agent running on this node? (--agent if its metrics listen elsewhere)");
        }
    }

    /** This node's clock against a Weir service's (the HTTP Date header, to the second). */
    public static Finding clock(HttpClient http, String serviceUrl, Duration warn) {
        try {
            Instant before = Instant.now();
            HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create(serviceUrl + "/actuator/health"))
                    .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.discarding());
            Instant after = Instant.now();
            String date = response.headers().firstValue("Date").orElse(null);
            if (date == null) {
                return Finding.warn("clock skew", serviceUrl + " sent no Date header", "compare clocks with chronyc tracking");
            }
            Instant theirs = ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
            Instant ours = before.plus(Duration.between(before, after).dividedBy(2));
            // The header has whole seconds: up to a second of difference is no skew.
            long skew = Math.abs(Duration.between(theirs, ours).toMillis()) - 1000;
            if (skew > warn.toMillis()) {
                return Finding.warn("clock skew", "this node's clock is " + (skew + 1000) / 1000 + " s off " + serviceUrl
                        + "'s: flow times, time-range queries and alert windows disagree",
                        "run NTP on every node (chronyc tracking; timedatectl set-ntp true)");
            }
            return Finding.ok("clock skew", "within a second of " + serviceUrl);
        } catch (Exception e) {
            return Finding.warn("clock skew", "could not compare clocks with " + serviceUrl + " (" + rootCause(e) + ")",
                    "--relay-api must point at a running relay");
        }
    }

    static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
