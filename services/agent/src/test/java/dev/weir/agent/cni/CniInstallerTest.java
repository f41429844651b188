package dev.weir.agent.cni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class CniInstallerTest {

    @TempDir
    Path dir;
    Path plugin;
    Path bin;
    Path conf;

    @BeforeEach
    void setUp() throws Exception {
        plugin = Files.writeString(dir.resolve("weir-cni-built"), "#!/bin/sh\n");
        bin = dir.resolve("bin");
        conf = Files.createDirectories(dir.resolve("net.d"));
    }

    JsonNode installed() throws Exception {
        return JsonMapper.builder().build().readTree(Files.readString(conf.resolve(CniInstaller.CONFIG)));
    }

    @Test
    void chainedAppendsWeirToThePrimaryPluginsChainOnceAndTheBinaryIsExecutable() throws Exception {
        Files.writeString(conf.resolve("10-flannel.conflist"), """
                {"cniVersion": "1.0.0", "name": "cbr0", "plugins": [
                  {"type": "flannel", "delegate": {"hairpinMode": true}}, {"type": "portmap", "capabilities": {"portMappings": true}}]}
                """);
        CniInstaller.install(plugin, bin, conf, "chained", null, null);
        CniInstaller.install(plugin, bin, conf, "chained", null, null);
        JsonNode config = installed();
        assertThat(config.path("name").asString()).isEqualTo("cbr0");
        assertThat(config.path("plugins")).extracting(p -> p.path("type").asString())
                .containsExactly("flannel", "portmap", "weir-cni");
        assertThat(config.path("plugins").get(0).path("delegate").path("hairpinMode").asBoolean()).isTrue();
        assertThat(Files.isExecutable(bin.resolve("weir-cni"))).isTrue();
        assertThat(Files.list(conf).map(p -> p.getFileName().toString())).doesNotContain(".weir.conflist.tmp");
    }

    @Test
    void aSinglePluginConfIsWrappedIntoAChain() throws Exception {
        Files.writeString(conf.resolve("10-bridge.conf"),
                "{\"cniVersion\":\"0.4.0\",\"name\":\"net\",\"type\":\"bridge\",\"ipam\":{\"type\":\"host-local\"}}");
        CniInstaller.install(plugin, bin, conf, "chained", null, null);
        JsonNode config = installed();
        assertThat(config.path("cniVersion").asString()).isEqualTo("0.4.0");
        assertThat(config.path("plugins").get(0).path("type").asString()).isEqualTo("bridge");
        assertThat(config.path("plugins").get(0).has("name")).isFalse();
        assertThat(config.path("plugins").get(1).path("type").asString()).isEqualTo("weir-cni");
    }

    @Test
    void chainedWaitsForAPrimaryAndRefusesOneThatWouldStillWin() throws Exception {
        assertThatThrownBy(() -> CniInstaller.install(plugin, bin, conf, "chained", null, null))
                .hasMessageContaining("no primary plugin configuration");
        Files.writeString(conf.resolve("00-aaa.conflist"), "{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[]}");
        assertThatThrownBy(() -> CniInstaller.install(plugin, bin, conf, "chained", null, null))
                .hasMessageContaining("sorts before 00-weir.conflist");
    }

    @Test
    void aPrimaryOfAnUnspokenVersionIsRefused() throws Exception {
        Files.writeString(conf.resolve("10-old.conflist"), "{\"cniVersion\":\"0.3.1\",\"name\":\"x\",\"plugins\":[]}");
        assertThatThrownBy(() -> CniInstaller.install(plugin, bin, conf, "chained", null, null))
                .hasMessageContaining("0.3.1");
        assertThat(Files.exists(conf.resolve(CniInstaller.CONFIG))).isFalse();
    }

    @Test
    void standaloneWritesHostLocalForTheNodesSubnetAndNeedsOne() throws Exception {
        assertThatThrownBy(() -> CniInstaller.install(plugin, bin, conf, "standalone", null, "0.0.0.0/0"))
                .hasMessageContaining("--subnet");
        CniInstaller.install(plugin, bin, conf, "standalone", "198.18.7.0/24", "0.0.0.0/0");
        JsonNode weir = installed().path("plugins").get(0);
        assertThat(weir.path("type").asString()).isEqualTo("weir-cni");
        assertThat(weir.path("ipam").path("ranges").get(0).get(0).path("subnet").asString()).isEqualTo("198.18.7.0/24");
    }

    @Test
    void uninstallRemovesOnlyWeirsFiles() throws Exception {
        Files.writeString(conf.resolve("10-flannel.conflist"), "{\"cniVersion\":\"1.0.0\",\"name\":\"cbr0\",\"plugins\":[]}");
        CniInstaller.install(plugin, bin, conf, "chained", null, null);
        CniInstaller.uninstall(bin, conf);
        assertThat(Files.exists(conf.resolve(CniInstaller.CONFIG))).isFalse();
        assertThat(Files.exists(bin.resolve("weir-cni"))).isFalse();
        assertThat(Files.exists(conf.resolve("10-flannel.conflist"))).isTrue();
        // Someone else's file of that name is not Weir's to remove.
        Files.writeString(conf.resolve(CniInstaller.CONFIG), "{\"plugins\":[{\"type\":\"calico\"}]}");
        CniInstaller.uninstall(bin, conf);
        assertThat(Files.exists(conf.resolve(CniInstaller.CONFIG))).isTrue();
    }
}
