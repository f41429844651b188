package dev.weir.cli.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.weir.cli.doctor.Finding.Severity;
import dev.weir.cli.doctor.NodeState.Attachment;
import dev.weir.cli.doctor.NodeState.MapFill;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeChecksTest {

    static final List<String> PINS = List.of("weir_ipcache", "weir_endpoints", "weir_policy", "weir_ct", "weir_events",
            "weir_metrics", "weir_health");

    static NodeState healthy() {
        return new NodeState(true, true, PINS, Map.of(7, 1, 9, 2),
                List.of(new Attachment(7, "lxc-a", "clsact/ingress", "weir_from_endpo"),
                        new Attachment(7, "lxc-a", "clsact/egress", "weir_to_endpoin"),
                        new Attachment(9, "lxc-b", "clsact/ingress", "weir_from_endpo"),
                        new Attachment(9, "lxc-b", "clsact/egress", "weir_to_endpoin")),
                List.of(new MapFill("weir_ipcache", 100, 65536), new MapFill("weir_endpoints", 2, 1024)),
                Map.of(1, "lo", 7, "lxc-a", 9, "lxc-b"));
    }

    @Test
    void aHealthyNodeHasOnlyOkFindings() {
        List<Finding> findings = NodeChecks.judge(healthy(), "/sys/fs/bpf/weir");
        assertThat(findings).allMatch(f -> f.severity() == Severity.OK);
        assertThat(findings).extracting(Finding::check).contains("bpf filesystem", "programs attached", "leftovers",
                "map pressure");
    }

    @Test
    void noBpfFilesystemFailsWithTheMountCommand() {
        NodeState node = new NodeState(false, false, List.of(), Map.of(), List.of(), List.of(), Map.of());
        List<Finding> findings = NodeChecks.judge(node, "/sys/fs/bpf/weir");
        assertThat(findings).singleElement().satisfies(f -> {
            assertThat(f.severity()).isEqualTo(Severity.FAIL);
            assertThat(f.fix()).contains("mount -t bpf bpf /sys/fs/bpf");
        });
    }

    @Test
    void anEndpointMissingAProgramFailsNamingItsInterface() {
        NodeState h = healthy();
        NodeState node = new NodeState(true, true, PINS, h.endpoints(), h.attachments().subList(0, 3), h.maps(),
                h.interfaces());
        Finding attached = NodeChecks.judge(node, "/p").stream().filter(f -> f.check().equals("programs attached"))
                .findFirst().orElseThrow();
        assertThat(attached.severity()).isEqualTo(Severity.FAIL);
        assertThat(attached.message()).contains("lxc-b (endpoint 2, missing the egress program)")
                .doesNotContain("lxc-a");
    }

    @Test
    void leftoversAreStrayProgramsStaleEndpointsAndUnknownPins() {
        NodeState h = healthy();
        List<Attachment> attachments = new java.util.ArrayList<>(h.attachments());
        attachments.add(new Attachment(12, "veth-old", "clsact/ingress", "weir_from_endpo"));
        attachments.add(new Attachment(13, "eth0", "clsact/ingress", "other_prog"));
        List<String> pins = new java.util.ArrayList<>(PINS);
        pins.add("weir_policy_old");
        NodeState node = new NodeState(true, true, pins, Map.of(7, 1, 9, 2, 44, 5), attachments, h.maps(),
                Map.of(7, "lxc-a", 9, "lxc-b", 12, "veth-old", 13, "eth0"));
        Finding leftovers = NodeChecks.judge(node, "/sys/fs/bpf/weir").stream()
                .filter(f -> f.check().equals("leftovers")).findFirst().orElseThrow();
        assertThat(leftovers.severity()).isEqualTo(Severity.WARN);
        assertThat(leftovers.message()).contains("veth-old").doesNotContain("eth0").contains("ifindex 44 (endpoint 5)")
                .contains("weir_policy_old");
    }

    @Test
    void mapsNearlyFullWarnAndFullFail() {
        NodeState h = healthy();
        NodeState node = new NodeState(true, true, PINS, h.endpoints(), h.attachments(),
                List.of(new MapFill("weir_ipcache", 60_000, 65536), new MapFill("weir_policy", 1024, 1024),
                        new MapFill("weir_ct", 262144, 262144)), h.interfaces());
        List<Finding> pressure = NodeChecks.judge(node, "/p").stream().filter(f -> f.check().equals("map pressure")).toList();
        assertThat(pressure).extracting(Finding::severity).containsExactly(Severity.WARN, Severity.FAIL);
        assertThat(pressure.get(0).message()).contains("weir_ipcache holds 60000 of 65536 entries (92%)");
        assertThat(Doctor.exitCode(pressure)).isEqualTo(Doctor.FAILURES);
        assertThat(Doctor.exitCode(pressure.subList(0, 1))).isEqualTo(Doctor.WARNINGS);
        assertThat(Doctor.exitCode(NodeChecks.judge(healthy(), "/p"))).isZero();
    }

    @Test
    void bpftoolsHexBytesAreReadLittleEndian() throws Exception {
        var bytes = tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree("[\"0x07\",\"0x01\",\"0x00\",\"0x00\",\"0x2a\",\"0x00\",\"0x00\",\"0x00\"]");
        assertThat(Bpftool.littleEndian(bytes, 0)).isEqualTo(263);
        assertThat(Bpftool.littleEndian(bytes, 4)).isEqualTo(42);
    }
}
