package dev.weir.schemas.compat;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The schemas may only grow compatibly: compared with the last released descriptor set
 * ({@code schemas/released/}), nothing a subscriber relies on may change.
 */
class SchemaCompatibilityTest {

    static final Path RELEASED = Path.of("released", "weir-schemas-v1.binpb");

    @Test
    void currentSchemasAreCompatibleWithTheLastRelease() throws IOException {
        FileDescriptorSet released;
        try (InputStream in = Files.newInputStream(RELEASED)) {
            released = DescriptorSets.read(in);
        }
        assertThat(released.getFileCount()).isGreaterThan(3);
        assertThat(BreakingChangeDetector.breakingChanges(released, DescriptorSets.current())).isEmpty();
    }

    @Test
    void removingAFieldWithoutReservingItIsBreaking() {
        FileDescriptorSet current = DescriptorSets.current();
        FileDescriptorSet changed = editMessage(current, "Flow", m -> {
            DescriptorProto.Builder b = m.toBuilder().clearField();
            m.getFieldList().stream().filter(f -> f.getNumber() != 7).forEach(b::addField);
            return b.build();
        });
        assertThat(BreakingChangeDetector.breakingChanges(current, changed))
                .containsExactly("field weir.flow.v1.Flow.is_reply (7) was removed without reserving its number and name");
    }

    @Test
    void removingAFieldAndReservingItIsAllowed() {
        FileDescriptorSet current = DescriptorSets.current();
        FileDescriptorSet changed = editMessage(current, "Flow", m -> {
            DescriptorProto.Builder b = m.toBuilder().clearField();
            m.getFieldList().stream().filter(f -> f.getNumber() != 7).forEach(b::addField);
            b.addReservedRange(DescriptorProto.ReservedRange.newBuilder().setStart(7).setEnd(8));
            b.addReservedName("is_reply");
            return b.build();
        });
        assertThat(BreakingChangeDetector.breakingChanges(current, changed)).isEmpty();
    }

    @Test
    void changingATypeOrRenamingIsBreakingAndAddingIsNot() {
        FileDescriptorSet current = DescriptorSets.current();
        FileDescriptorSet changed = editMessage(current, "Flow", m -> {
            DescriptorProto.Builder b = m.toBuilder();
            for (int i = 0; i < b.getFieldCount(); i++) {
                FieldDescriptorProto f = b.getField(i);
                if (f.getName().equals("node_name")) {
                    b.setField(i, f.toBuilder().setType(FieldDescriptorProto.Type.TYPE_BYTES));
                } else if (f.getName().equals("summary")) {
                    b.setField(i, f.toBuilder().setName("summary_text"));
                }
            }
            b.addField(FieldDescriptorProto.newBuilder().setName("added").setNumber(999)
                    .setType(FieldDescriptorProto.Type.TYPE_STRING));
            return b.build();
        });
        assertThat(BreakingChangeDetector.breakingChanges(current, changed)).containsExactly(
                "field weir.flow.v1.Flow.node_name (3) changed type from TYPE_STRING to TYPE_BYTES",
                "field weir.flow.v1.Flow.summary (23) was renamed to summary_text (breaks JSON)");
    }

    @Test
    void removingAnEnumValueOrAMessageIsBreaking() {
        FileDescriptorSet current = DescriptorSets.current();
        FileDescriptorSet changed = editFile(current, "weir/flow/v1/flow.proto", file -> {
            FileDescriptorProto.Builder b = file.toBuilder().clearEnumType().clearMessageType();
            for (EnumDescriptorProto e : file.getEnumTypeList()) {
                if (e.getName().equals("DropReason")) {
                    EnumDescriptorProto.Builder eb = e.toBuilder().clearValue();
                    e.getValueList().stream().filter(v -> v.getNumber() != 181).forEach(eb::addValue);
                    b.addEnumType(eb);
                } else {
                    b.addEnumType(e);
                }
            }
            file.getMessageTypeList().stream().filter(m -> !m.getName().equals("Workload")).forEach(b::addMessageType);
            return b.build();
        });
        assertThat(BreakingChangeDetector.breakingChanges(current, changed)).containsExactly(
                "enum value weir.flow.v1.DropReason.POLICY_DENY (181) was removed without reserving its number and name",
                "message weir.flow.v1.Workload was removed");
    }

    private static FileDescriptorSet editMessage(FileDescriptorSet set, String message,
            UnaryOperator<DescriptorProto> edit) {
        return editFile(set, "weir/flow/v1/flow.proto", file -> {
            FileDescriptorProto.Builder b = file.toBuilder();
            for (int i = 0; i < b.getMessageTypeCount(); i++) {
                if (b.getMessageType(i).getName().equals(message)) {
                    b.setMessageType(i, edit.apply(b.getMessageType(i)));
                }
            }
            return b.build();
        });
    }

    private static FileDescriptorSet editFile(FileDescriptorSet set, String name,
            UnaryOperator<FileDescriptorProto> edit) {
        FileDescriptorSet.Builder b = set.toBuilder();
        for (int i = 0; i < b.getFileCount(); i++) {
            if (b.getFile(i).getName().equals(name)) {
                b.setFile(i, edit.apply(b.getFile(i)));
            }
        }
        return b.build();
    }
}
