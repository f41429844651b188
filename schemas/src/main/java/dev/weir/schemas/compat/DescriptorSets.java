package dev.weir.schemas.compat;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.FileDescriptor;
import dev.weir.schemas.ProtoTypes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Descriptor sets of Weir's schemas: the current one, built from the generated classes, and
 * released ones, read from files. A release writes its set with
 * {@code java -cp <schemas jar and deps> dev.weir.schemas.compat.DescriptorSets <file>}.
 */
public final class DescriptorSets {

    private DescriptorSets() {
    }

    /** The schemas compiled into this artifact, with everything they import. */
    public static FileDescriptorSet current() {
        Map<String, FileDescriptorProto> files = new LinkedHashMap<>();
        for (FileDescriptor file : ProtoTypes.FILES) {
            addWithDependencies(file, files);
        }
        return FileDescriptorSet.newBuilder().addAllFile(files.values()).build();
    }

    private static void addWithDependencies(FileDescriptor file, Map<String, FileDescriptorProto> files) {
        for (FileDescriptor dependency : file.getDependencies()) {
            addWithDependencies(dependency, files);
        }
        files.putIfAbsent(file.getName(), file.toProto());
    }

    public static FileDescriptorSet read(InputStream in) throws IOException {
        return FileDescriptorSet.parseFrom(in);
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: DescriptorSets <output file>");
            System.exit(2);
        }
        try (OutputStream out = Files.newOutputStream(Path.of(args[0]))) {
            current().writeTo(out);
        }
    }
}
