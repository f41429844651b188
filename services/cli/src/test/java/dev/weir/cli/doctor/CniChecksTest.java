package dev.weir.cli.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CniChecksTest {

    @TempDir
    Path dir;

    static final String CHAINED = """
            {"cniVersion": "1.0.0", "name": "pods", "plugins": [
              {"type": "bridge", "ipam": {"type": "host-local"}}, {"type": "weir-cni"}]}
            """;

    Path conf() throws Exception {
        return Files.createDirectories(dir.resolve("net.d"));
    }

    /** A plugin binary that answers VERSION with these versions, without reading its input (as weir-cni does). */
    void plugin(String name, String... versions) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        String list = versions.length == 0 ? "" : "\"" + String.join("\",\"", versions) + "\"";
        Path file = bin.resolve(name);
        Files.writeString(file, "#!/bin/sh\necho '{\"cniVersion\":\"1.0.0\",\"supportedVersions\":["
                + list + "]}'\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    List<Finding> judge() throws Exception {
        return CniChecks.judge(CniState.read(dir.resolve("net.d"), List.of(dir.resolve("bin"))));
    }

    static List<Finding> of(List<Finding> findings, Finding.Severity severity) {
        return findings.stream().filter(f -> f.severity() == severity).toList();
    }

    @Test
    void aChainedConfigurationWithEveryPluginInstalledIsWell() throws Exception {
        Files.writeString(conf().resolve("00-weir.conflist"), CHAINED);
        plugin("bridge", "0.4.0", "1.0.0");
        plugin("host-local", "0.4.0", "1.0.0");
        plugin("weir-cni", "0.4.0", "1.0.0", "1.1.0");
        List<Finding> findings = judge();
        assertThat(of(findings, Finding.Severity.FAIL)).isEmpty();
        assertThat(of(findings, Finding.Severity.WARN)).isEmpty();
        assertThat(findings.get(0).message()).contains("00-weir.conflist").contains("bridge → host-local → weir-cni");
    }

    @Test
    void noConfigurationAtAllFails() throws Exception {
        conf();
        assertThat(of(judge(), Finding.Severity.FAIL)).singleElement().satisfies(f ->
                assertThat(f.message()).contains("no network configuration"));
    }

    @Test
    void theRuntimesChoiceWithoutWeirFailsAndTheRaceIsNamed() throws Exception {
        Files.writeString(conf().resolve("00-weir.conflist"), CHAINED);
        // Sorts first: the runtime uses it, and Weir's configuration is ignored.
        Files.writeString(conf().resolve("0-flannel.conflist"),
                "{\"cniVersion\":\"1.0.0\",\"name\":\"cbr0\",\"plugins\":[{\"type\":\"flannel\"}]}");
        plugin("flannel", "1.0.0");
        plugin("bridge", "1.0.0");
        plugin("host-local", "1.0.0");
        plugin("weir-cni", "1.0.0");
        List<Finding> findings = judge();
        assertThat(of(findings, Finding.Severity.FAIL)).singleElement().satisfies(f ->
                assertThat(f.message()).contains("0-flannel.conflist").contains("does not run weir-cni"));
        assertThat(of(findings, Finding.Severity.WARN)).singleElement().satisfies(f ->
                assertThat(f.message()).contains("several network configurations").contains("00-weir.conflist"));
    }

    @Test
    void aConfigurationLeftByAnUninstalledPluginIsNamed() throws Exception {
        Files.writeString(conf().resolve("00-weir.conflist"), CHAINED);
        Files.writeString(conf().resolve("10-calico.conflist"),
                "{\"cniVersion\":\"1.0.0\",\"name\":\"k8s-pod-network\",\"plugins\":[{\"type\":\"calico\"}]}");
        plugin("bridge", "1.0.0");
        plugin("host-local", "1.0.0");
        plugin("weir-cni", "1.0.0");
        assertThat(of(judge(), Finding.Severity.WARN)).anySatisfy(f ->
                assertThat(f.message()).contains("10-calico.conflist").contains("calico").contains("uninstalled"));
    }

    @Test
    void aMissingBinaryAndAVersionMismatchFail() throws Exception {
        Files.writeString(conf().resolve("00-weir.conflist"), CHAINED.replace("1.0.0", "1.1.0"));
        plugin("bridge", "0.4.0", "1.0.0");
        plugin("weir-cni", "1.1.0");
        List<Finding> failures = of(judge(), Finding.Severity.FAIL);
        assertThat(failures).anySatisfy(f -> assertThat(f.message()).contains("host-local").contains("not in the plugin"));
        assertThat(failures).anySatisfy(f -> assertThat(f.message()).contains("bridge speaks CNI [0.4.0, 1.0.0], not 1.1.0"));
    }

    @Test
    void anInvalidFirstConfigurationFails() throws Exception {
        Files.writeString(conf().resolve("00-weir.conflist"), "{not json");
        assertThat(of(judge(), Finding.Severity.FAIL)).singleElement().satisfies(f ->
                assertThat(f.message()).contains("not valid JSON"));
    }
}
