package dev.weir.common.hubble;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import dev.weir.proto.flow.v1.Dns;
import dev.weir.proto.flow.v1.Endpoint;
import dev.weir.proto.flow.v1.EventType;
import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.flow.v1.TracePoint;
import dev.weir.proto.flow.v1.TrafficDirection;
import dev.weir.proto.flow.v1.Verdict;
import dev.weir.proto.hubble.flow.EventTypeFilter;
import dev.weir.proto.hubble.flow.FlowFilter;
import dev.weir.proto.hubble.flow.FlowType;
import dev.weir.proto.hubble.flow.L7FlowType;
import dev.weir.proto.hubble.flow.TraceObservationPoint;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Weir's flows and Hubble's filters, each in the other's terms. */
class HubbleTranslationTest {

    static Flow.Builder flow() {
        return Flow.newBuilder().setTime(Timestamps.fromMillis(1_700_000_000_123L)).setUuid("u-1").setNodeName("node-1")
                .setSource(Endpoint.newBuilder().setNamespace("shop").setPodName("frontend").setIdentity(1234).setId(7)
                        .addLabels("app=frontend"))
                .setDestination(Endpoint.newBuilder().setNamespace("kube-system").setPodName("coredns").setIdentity(99));
    }

    @Test
    void aConnectionSeenAtTheEndpointIsATraceAtItsObservationPoint() {
        var hubble = HubbleFlows.of(flow().setVerdict(Verdict.FORWARDED).setEventType(EventType.NEW_CONNECTION)
                .setTracePoint(TracePoint.TO_ENDPOINT).setTrafficDirection(TrafficDirection.INGRESS).setIsReply(false)
                .setSummary("TCP Flags: SYN").build());
        assertThat(hubble.getEventType().getType()).isEqualTo(4);
        assertThat(hubble.getEventType().getSubType()).isZero(); // to-endpoint
        assertThat(hubble.getTraceObservationPoint()).isEqualTo(TraceObservationPoint.TO_ENDPOINT);
        assertThat(hubble.getTrafficDirection()).isEqualTo(dev.weir.proto.hubble.flow.TrafficDirection.INGRESS);
        assertThat(hubble.hasIsReply()).isTrue();
        assertThat(hubble.getIsReply().getValue()).isFalse();
        assertThat(hubble.getType()).isEqualTo(FlowType.L3_L4);
        assertThat(hubble.getSummary()).isEqualTo("TCP Flags: SYN");
        assertThat(hubble.getSource().getIdentity()).isEqualTo(1234);
        assertThat(hubble.getSource().getID()).isEqualTo(7);
        // Pod labels as Hubble shows them: with their source, and the namespace as Cilium adds it.
        assertThat(hubble.getSource().getLabelsList()).containsExactly("k8s:app=frontend",
                "k8s:io.kubernetes.pod.namespace=shop");
        assertThat(Timestamps.toMillis(hubble.getTime())).isEqualTo(1_700_000_000_123L);
    }

    @Test
    void aDnsAnswerIsAnL7Record() {
        var hubble = HubbleFlows.of(flow().setVerdict(Verdict.FORWARDED).setEventType(EventType.DNS)
                .setDns(Dns.newBuilder().setQuery("api.payments.svc.cluster.local.").setIsResponse(true).setRcode(3)
                        .addQtypes("A").setLatency(Durations.fromMillis(2))).build());
        assertThat(hubble.getType()).isEqualTo(FlowType.L7);
        assertThat(hubble.getEventType().getType()).isEqualTo(129);
        assertThat(hubble.getL7().getType()).isEqualTo(L7FlowType.RESPONSE);
        assertThat(hubble.getL7().getDns().getQuery()).isEqualTo("api.payments.svc.cluster.local.");
        assertThat(hubble.getL7().getDns().getRcode()).isEqualTo(3);
        assertThat(hubble.getL7().getLatencyNs()).isEqualTo(2_000_000L);
    }

    @Test
    void hubblesFiltersReadAsHubbleMeansThem() {
        var weir = HubbleFilters.translate(FlowFilter.newBuilder().addSourcePod("frontend").addDestinationPod("kube-system/")
                .addProtocol("dns").addVerdict(dev.weir.proto.hubble.flow.Verdict.DROPPED)
                .addTrafficDirection(dev.weir.proto.hubble.flow.TrafficDirection.EGRESS).build());
        assertThat(weir).singleElement().satisfies(f -> {
            assertThat(f.getSourcePodList()).containsExactly("default/frontend");
            assertThat(f.getDestinationPodList()).containsExactly("kube-system/");
            assertThat(f.getEventTypeList()).containsExactly(EventType.DNS);
            assertThat(f.getVerdictList()).containsExactly(Verdict.DROPPED);
            assertThat(f.getTrafficDirectionList()).containsExactly(TrafficDirection.EGRESS);
        });
        assertThat(HubbleFilters.translate(FlowFilter.newBuilder().addEventType(EventTypeFilter.newBuilder().setType(4)).build()))
                .singleElement().satisfies(f -> assertThat(f.getEventTypeList())
                        .containsExactlyInAnyOrder(EventType.NEW_CONNECTION, EventType.CONNECTION_CLOSE, EventType.EVENT_TYPE_UNKNOWN));
        // -t trace:to-endpoint, and a drop by Cilium's number for "unknown L4 protocol".
        assertThat(HubbleFilters.translate(FlowFilter.newBuilder().addEventType(EventTypeFilter.newBuilder().setType(4)
                .setMatchSubType(true).setSubType(0)).build())).singleElement()
                .satisfies(f -> assertThat(f.getTracePointList()).containsExactly(TracePoint.TO_ENDPOINT));
        assertThat(HubbleFilters.translate(FlowFilter.newBuilder().addEventType(EventTypeFilter.newBuilder().setType(1)
                .setMatchSubType(true).setSubType(142)).build())).singleElement()
                .satisfies(f -> assertThat(f.getDropReasonDescList())
                        .containsExactly(dev.weir.proto.flow.v1.DropReason.UNSUPPORTED_L4_PROTOCOL));
        // "tcp or dns" is two alternatives; "icmp" is either ICMP; type 0 is any type.
        assertThat(HubbleFilters.translate(FlowFilter.newBuilder().addProtocol("tcp").addProtocol("dns").build()))
                .extracting(f -> f.getProtocolList() + "" + f.getEventTypeList()).containsExactly("[tcp][]", "[][DNS]");
        assertThat(HubbleFilters.translate(FlowFilter.newBuilder().addProtocol("icmp").build())).singleElement()
                .satisfies(f -> assertThat(f.getProtocolList()).containsExactly("icmp", "icmpv6"));
        assertThat(HubbleFilters.translate(FlowFilter.newBuilder().addEventType(EventTypeFilter.newBuilder().setType(0)).build()))
                .singleElement().satisfies(f -> assertThat(f.getEventTypeList()).isEmpty());
        // DNS and drops together: only dropped DNS, not every drop and every DNS record.
        assertThat(HubbleFilters.translate(FlowFilter.newBuilder().addProtocol("dns")
                .addEventType(EventTypeFilter.newBuilder().setType(1)).build())).isEmpty();
        assertThat(HubbleFilters.translate(FlowFilter.newBuilder().addSourcePod("/cart").build())).singleElement()
                .satisfies(f -> assertThat(f.getSourcePodList()).containsExactly("/cart"));
    }

    @Test
    void weirsDropReasonsAreCiliumsNumbersForTheSameReason() {
        var drop = HubbleFlows.of(flow().setVerdict(Verdict.DROPPED).setEventType(EventType.DROP)
                .setDropReason(dev.weir.proto.flow.v1.DropReason.UNSUPPORTED_L4_PROTOCOL).build());
        assertThat(drop.getDropReasonDesc()).isEqualTo(dev.weir.proto.hubble.flow.DropReason.UNKNOWN_L4_PROTOCOL);
        assertThat(drop.getEventType().getSubType()).isEqualTo(142);
        var unconfigured = HubbleFlows.of(flow().setVerdict(Verdict.DROPPED).setEventType(EventType.DROP)
                .setDropReason(dev.weir.proto.flow.v1.DropReason.NO_POLICY_MAP).build());
        assertThat(unconfigured.getDropReason()).isEqualTo(165);
    }

    @Test
    void whatWeirNeverRecordsMatchesNothingAndWhatItCannotSelectIsRefused() {
        var services = FlowFilter.newBuilder().addDestinationService("shop/cart").build();
        assertThat(HubbleFilters.translate(services)).isEmpty();
        assertThat(HubbleFilters.whitelist(List.of(services))).singleElement()
                .satisfies(f -> assertThat(f.getUuidList()).containsExactly(HubbleFilters.NO_FLOW));
        assertThat(HubbleFilters.blacklist(List.of(services))).isEmpty();
        assertThatThrownBy(() -> HubbleFilters.translate(FlowFilter.newBuilder().addDnsQuery(".*\\.local").build()))
                .isInstanceOf(HubbleFilters.Unsupported.class).hasMessageContaining("dns_query");
        assertThatThrownBy(() -> HubbleFilters.translate(FlowFilter.newBuilder().addSourcePod("").build()))
                .hasMessageContaining("source_pod");
        // A field of a newer contract (here 37, source_cluster_name) is refused, not read as "any".
        var newer = FlowFilter.newBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
                .addField(37, com.google.protobuf.UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(com.google.protobuf.ByteString.copyFromUtf8("c1")).build()).build()).build();
        assertThatThrownBy(() -> HubbleFilters.translate(newer)).hasMessageContaining("37");
    }
}
