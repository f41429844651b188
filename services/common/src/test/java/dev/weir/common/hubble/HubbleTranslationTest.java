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
                        .addLabels("k8s:app=frontend"))
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
        assertThat(hubble.getSource().getLabelsList()).containsExactly("k8s:app=frontend");
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
        assertThat(weir.getSourcePodList()).containsExactly("default/frontend");
        assertThat(weir.getDestinationPodList()).containsExactly("kube-system/");
        assertThat(weir.getEventTypeList()).containsExactly(EventType.DNS);
        assertThat(weir.getVerdictList()).containsExactly(Verdict.DROPPED);
        assertThat(weir.getTrafficDirectionList()).containsExactly(TrafficDirection.EGRESS);
        var traces = HubbleFilters.translate(FlowFilter.newBuilder().addEventType(EventTypeFilter.newBuilder().setType(4)).build());
        assertThat(traces.getEventTypeList()).containsExactly(EventType.NEW_CONNECTION, EventType.CONNECTION_CLOSE);
    }

    @Test
    void whatWeirNeverRecordsMatchesNothingAndWhatItCannotSelectIsRefused() {
        var services = FlowFilter.newBuilder().addDestinationService("shop/cart").build();
        assertThat(HubbleFilters.translate(services)).isNull();
        assertThat(HubbleFilters.whitelist(List.of(services))).singleElement()
                .satisfies(f -> assertThat(f.getUuidList()).containsExactly(HubbleFilters.NO_FLOW));
        assertThat(HubbleFilters.blacklist(List.of(services))).isEmpty();
        assertThatThrownBy(() -> HubbleFilters.translate(FlowFilter.newBuilder().addDnsQuery(".*\\.local").build()))
                .isInstanceOf(HubbleFilters.Unsupported.class).hasMessageContaining("dns_query");
        assertThatThrownBy(() -> HubbleFilters.translate(FlowFilter.newBuilder()
                .addEventType(EventTypeFilter.newBuilder().setType(4).setMatchSubType(true)).build()))
                .hasMessageContaining("sub_type");
        assertThatThrownBy(() -> HubbleFilters.translate(FlowFilter.newBuilder().addSourcePod("/cart").build()))
                .hasMessageContaining("every namespace");
    }
}
