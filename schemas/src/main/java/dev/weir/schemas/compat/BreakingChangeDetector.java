package dev.weir.schemas.compat;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumValueDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DescriptorProtos.MethodDescriptorProto;
import com.google.protobuf.DescriptorProtos.ServiceDescriptorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the changes between a released and a current descriptor set that break wire, JSON or
 * generated-code compatibility for Kafka subscribers and gRPC clients:
 * a message, enum, service or method removed; a field or enum value removed without reserving its
 * number and name; a field's number reused with another type, cardinality or name; a method's
 * request, response or streaming changed. Adding is always allowed.
 */
public final class BreakingChangeDetector {

    private BreakingChangeDetector() {
    }

    public static List<String> breakingChanges(FileDescriptorSet released, FileDescriptorSet current) {
        List<String> problems = new ArrayList<>();
        Map<String, DescriptorProto> currentMessages = new HashMap<>();
        Map<String, EnumDescriptorProto> currentEnums = new HashMap<>();
        Map<String, ServiceDescriptorProto> currentServices = new HashMap<>();
        index(current, currentMessages, currentEnums, currentServices);
        Map<String, DescriptorProto> releasedMessages = new HashMap<>();
        Map<String, EnumDescriptorProto> releasedEnums = new HashMap<>();
        Map<String, ServiceDescriptorProto> releasedServices = new HashMap<>();
        index(released, releasedMessages, releasedEnums, releasedServices);

        releasedMessages.forEach((name, old) -> {
            DescriptorProto now = currentMessages.get(name);
            if (now == null) {
                problems.add("message " + name + " was removed");
            } else {
                compareMessage(name, old, now, problems);
            }
        });
        releasedEnums.forEach((name, old) -> {
            EnumDescriptorProto now = currentEnums.get(name);
            if (now == null) {
                problems.add("enum " + name + " was removed");
            } else {
                compareEnum(name, old, now, problems);
            }
        });
        releasedServices.forEach((name, old) -> {
            ServiceDescriptorProto now = currentServices.get(name);
            if (now == null) {
                problems.add("service " + name + " was removed");
            } else {
                compareService(name, old, now, problems);
            }
        });
        problems.sort(null);
        return problems;
    }

    private static void compareMessage(String name, DescriptorProto old, DescriptorProto now, List<String> problems) {
        Map<Integer, FieldDescriptorProto> fields = new HashMap<>();
        for (FieldDescriptorProto field : now.getFieldList()) {
            fields.put(field.getNumber(), field);
        }
        for (FieldDescriptorProto was : old.getFieldList()) {
            String where = name + "." + was.getName() + " (" + was.getNumber() + ")";
            FieldDescriptorProto is = fields.get(was.getNumber());
            if (is == null) {
                boolean numberReserved = now.getReservedRangeList().stream()
                        .anyMatch(r -> r.getStart() <= was.getNumber() && was.getNumber() < r.getEnd());
                boolean nameReserved = now.getReservedNameList().contains(was.getName());
                if (!numberReserved || !nameReserved) {
                    problems.add("field " + where + " was removed without reserving its number and name");
                }
                continue;
            }
            if (is.getType() != was.getType() || !is.getTypeName().equals(was.getTypeName())) {
                problems.add("field " + where + " changed type from " + typeOf(was) + " to " + typeOf(is));
            }
            if (is.getLabel() != was.getLabel()) {
                problems.add("field " + where + " changed cardinality from " + was.getLabel() + " to " + is.getLabel());
            }
            if (!is.getName().equals(was.getName())) {
                problems.add("field " + where + " was renamed to " + is.getName() + " (breaks JSON)");
            }
            if (is.hasOneofIndex() != was.hasOneofIndex()) {
                problems.add("field " + where + " moved into or out of a oneof");
            }
        }
    }

    private static String typeOf(FieldDescriptorProto field) {
        return field.getTypeName().isEmpty() ? field.getType().name() : field.getTypeName();
    }

    private static void compareEnum(String name, EnumDescriptorProto old, EnumDescriptorProto now, List<String> problems) {
        Map<Integer, EnumValueDescriptorProto> values = new HashMap<>();
        for (EnumValueDescriptorProto value : now.getValueList()) {
            values.putIfAbsent(value.getNumber(), value);
        }
        for (EnumValueDescriptorProto was : old.getValueList()) {
            EnumValueDescriptorProto is = values.get(was.getNumber());
            String where = name + "." + was.getName() + " (" + was.getNumber() + ")";
            if (is == null) {
                boolean numberReserved = now.getReservedRangeList().stream()
                        .anyMatch(r -> r.getStart() <= was.getNumber() && was.getNumber() <= r.getEnd());
                if (!numberReserved || !now.getReservedNameList().contains(was.getName())) {
                    problems.add("enum value " + where + " was removed without reserving its number and name");
                }
            } else if (!is.getName().equals(was.getName())) {
                problems.add("enum value " + where + " was renamed to " + is.getName() + " (breaks JSON)");
            }
        }
    }

    private static void compareService(String name, ServiceDescriptorProto old, ServiceDescriptorProto now,
            List<String> problems) {
        Map<String, MethodDescriptorProto> methods = new HashMap<>();
        for (MethodDescriptorProto method : now.getMethodList()) {
            methods.put(method.getName(), method);
        }
        for (MethodDescriptorProto was : old.getMethodList()) {
            MethodDescriptorProto is = methods.get(was.getName());
            String where = name + "." + was.getName();
            if (is == null) {
                problems.add("method " + where + " was removed");
            } else if (!is.getInputType().equals(was.getInputType())
                    || !is.getOutputType().equals(was.getOutputType())
                    || is.getClientStreaming() != was.getClientStreaming()
                    || is.getServerStreaming() != was.getServerStreaming()) {
                problems.add("method " + where + " changed its request, response or streaming");
            }
        }
    }

    private static void index(FileDescriptorSet set, Map<String, DescriptorProto> messages,
            Map<String, EnumDescriptorProto> enums, Map<String, ServiceDescriptorProto> services) {
        for (FileDescriptorProto file : set.getFileList()) {
            String prefix = file.getPackage().isEmpty() ? "" : file.getPackage() + ".";
            for (DescriptorProto message : file.getMessageTypeList()) {
                indexMessage(prefix + message.getName(), message, messages, enums);
            }
            for (EnumDescriptorProto e : file.getEnumTypeList()) {
                enums.put(prefix + e.getName(), e);
            }
            for (ServiceDescriptorProto service : file.getServiceList()) {
                services.put(prefix + service.getName(), service);
            }
        }
    }

    private static void indexMessage(String name, DescriptorProto message, Map<String, DescriptorProto> messages,
            Map<String, EnumDescriptorProto> enums) {
        messages.put(name, message);
        for (DescriptorProto nested : message.getNestedTypeList()) {
            indexMessage(name + "." + nested.getName(), nested, messages, enums);
        }
        for (EnumDescriptorProto e : message.getEnumTypeList()) {
            enums.put(name + "." + e.getName(), e);
        }
    }
}
