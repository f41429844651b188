package dev.weir.schemas;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Message;
import dev.weir.proto.alert.v1.AlertProto;
import dev.weir.proto.dns.v1.DnsProto;
import dev.weir.proto.flow.v1.FlowProto;
import dev.weir.proto.observer.v1.ObserverProto;
import dev.weir.proto.state.v1.StateProto;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Every message Weir's schemas define, by fully qualified protobuf name. */
public final class ProtoTypes {

    /** The schema files, in dependency order. */
    public static final List<FileDescriptor> FILES = List.of(
            FlowProto.getDescriptor(),
            StateProto.getDescriptor(),
            DnsProto.getDescriptor(),
            dev.weir.proto.dns.v1.DnsAnalyticsProto.getDescriptor(),
            AlertProto.getDescriptor(),
            ObserverProto.getDescriptor());

    private static final Map<String, Message> DEFAULT_INSTANCES = new HashMap<>();

    static {
        for (FileDescriptor file : FILES) {
            for (Descriptor type : file.getMessageTypes()) {
                DEFAULT_INSTANCES.put(type.getFullName(), defaultInstanceOf(file, type));
            }
        }
    }

    private ProtoTypes() {
    }

    /** The generated message's default instance, from which its parser comes. */
    public static Optional<Message> defaultInstance(String fullName) {
        return Optional.ofNullable(DEFAULT_INSTANCES.get(fullName));
    }

    /** The value type of a catalogue topic; empty for a raw-bytes topic. */
    public static Optional<Message> valueType(TopicSpec topic) {
        if (TopicSpec.RAW_BYTES.equals(topic.valueType())) {
            return Optional.empty();
        }
        return Optional.of(defaultInstance(topic.valueType()).orElseThrow(() -> new IllegalStateException(
                "topic " + topic.name() + " names an unknown value type " + topic.valueType())));
    }

    private static Message defaultInstanceOf(FileDescriptor file, Descriptor type) {
        String className = file.getOptions().getJavaPackage() + "." + type.getName();
        try {
            return (Message) Class.forName(className).getMethod("getDefaultInstance").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("no generated class " + className + " for " + type.getFullName(), e);
        }
    }
}
