package dev.weir.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java mirror of weir_maps.h agrees with the compiled datapath: for every struct, the size
 * and each field's offset read from the object's BTF (with bpftool) equal {@link MapLayout}'s,
 * and the mirror names every field the C struct has.
 */
class MapLayoutBtfTest {

    private static final Pattern STRUCT = Pattern.compile("^\\[\\d+] STRUCT '([a-z_]+)' size=(\\d+) vlen=(\\d+)$");
    private static final Pattern MEMBER = Pattern.compile("^\\s+'([a-z_0-9]+)' type_id=\\d+ bits_offset=(\\d+)$");

    private static final Pattern ENUM_VALUE = Pattern.compile("^\\s+'([A-Z0-9_]+)' val=(-?\\d+)$");

    private static final Map<String, MapLayout.Struct> BTF = new LinkedHashMap<>();
    private static final Map<String, Integer> ENUMS = new LinkedHashMap<>();

    @BeforeAll
    static void readBtf() throws IOException, InterruptedException {
        Process bpftool = new ProcessBuilder("bpftool", "btf", "dump", "file",
                NativeArtifacts.datapathObject().toString()).redirectErrorStream(true).start();
        String dump = new String(bpftool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(bpftool.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(bpftool.exitValue()).as("bpftool btf dump: %s", dump).isZero();
        String name = null;
        int size = 0;
        Map<String, Integer> offsets = null;
        for (String line : dump.split("\n")) {
            Matcher value = ENUM_VALUE.matcher(line);
            if (value.matches()) {
                ENUMS.put(value.group(1), Integer.parseInt(value.group(2)));
            }
            Matcher struct = STRUCT.matcher(line);
            Matcher member = MEMBER.matcher(line);
            if (struct.matches()) {
                if (name != null) {
                    BTF.put(name, new MapLayout.Struct(name, size, offsets));
                }
                name = struct.group(1);
                size = Integer.parseInt(struct.group(2));
                offsets = new LinkedHashMap<>();
            } else if (name != null && member.matches()) {
                offsets.put(member.group(1), Integer.parseInt(member.group(2)) / 8);
            } else if (!line.startsWith("\t") && !line.startsWith(" ")) {
                if (name != null) {
                    BTF.put(name, new MapLayout.Struct(name, size, offsets));
                }
                name = null;
            }
        }
        if (name != null) {
            BTF.put(name, new MapLayout.Struct(name, size, offsets));
        }
    }

    @Test
    void everyMirroredStructMatchesTheObjectsBtf() {
        for (MapLayout.Struct mirror : MapLayout.BPF_STRUCTS) {
            MapLayout.Struct btf = BTF.get(mirror.name());
            assertThat(btf).as("struct %s in the object's BTF", mirror.name()).isNotNull();
            assertThat(mirror.size()).as("sizeof(struct %s)", mirror.name()).isEqualTo(btf.size());
            assertThat(mirror.offsets()).as("fields and offsets of struct %s", mirror.name())
                    .containsExactlyEntriesOf(btf.offsets());
        }
    }

    @Test
    void everyMirroredConstantIsTheObjectsEnumConstant() {
        assertThat(ENUMS).as("enum constants in the object's BTF").containsKey("WEIR_DROP_INVALID_SOURCE_IP");
        MapLayout.ENUM_CONSTANTS.forEach((name, value) ->
                assertThat(ENUMS.get(name)).as("%s in the object", name).isEqualTo(value));
    }

    @Test
    void theDatapathsVerdictsAndDropReasonsAreFlowProtosNumbers() {
        for (var reason : dev.weir.proto.flow.v1.DropReason.values()) {
            if (reason != dev.weir.proto.flow.v1.DropReason.UNRECOGNIZED && reason.getNumber() != 0) {
                assertThat(ENUMS.entrySet()).as("a WEIR_DROP_ constant for %s", reason)
                        .anyMatch(e -> e.getKey().startsWith("WEIR_DROP_") && e.getValue() == reason.getNumber());
            }
        }
        ENUMS.forEach((name, value) -> {
            if (name.startsWith("WEIR_DROP_") && value != 0) {
                assertThat(dev.weir.proto.flow.v1.DropReason.forNumber(value)).as("flow.proto's DropReason %d (%s)",
                        value, name).isNotNull();
            }
            if (name.startsWith("WEIR_VERDICT_")) {
                assertThat(dev.weir.proto.flow.v1.Verdict.forNumber(value)).as("flow.proto's Verdict %d (%s)", value, name)
                        .isNotNull();
            }
            if (name.startsWith("WEIR_EVENT_")) {
                assertThat(dev.weir.proto.flow.v1.EventType.forNumber(value)).as("flow.proto's EventType %d (%s)", value,
                        name).isNotNull();
            }
        });
    }

    @Test
    void theCheckWouldNoticeADrift() {
        MapLayout.Struct btf = BTF.get("weir_flow_event");
        Map<String, Integer> shifted = new LinkedHashMap<>(MapLayout.FLOW_EVENT.offsets());
        shifted.put("dport", shifted.get("dport") + 2);
        assertThat(shifted).isNotEqualTo(btf.offsets());
    }
}
