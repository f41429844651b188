package dev.weir.cli.doctor;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CNI mishaps that break clusters, judged from what is on the node: the network the runtime
 * actually uses (the first configuration by name) does not run weir-cni; several configurations
 * race (whichever sorts first wins, and a plugin that writes its file late takes over); a
 * configuration left behind by an uninstalled plugin names a binary that is gone; a plugin binary
 * that does not speak its configuration's CNI version. Pure: {@link CniState} gathers the state.
 */
public final class CniChecks {

    static final String PLUGIN = "weir-cni";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private CniChecks() {
    }

    public static List<Finding> judge(CniState state) {
        List<Finding> findings = new ArrayList<>();
        String dir = state.confDir().toString();
        if (state.configs().isEmpty()) {
            findings.add(Finding.fail("cni config", "no network configuration in " + dir
                    + ": the runtime cannot start pods", "install the chart (its agent writes 00-weir.conflist), or "
                    + "pass --cni-conf-dir if the runtime reads another directory"));
            return findings;
        }
        CniState.ConfigFile chosen = state.configs().get(0);
        JsonNode first = parse(chosen.text());
        if (first == null) {
            findings.add(Finding.fail("cni config", chosen.name() + " is the runtime's choice and is not valid JSON",
                    "fix or remove " + dir + "/" + chosen.name()));
            return findings;
        }
        List<String> types = types(first);
        if (!types.contains(PLUGIN)) {
            findings.add(Finding.fail("cni config", "the runtime uses " + chosen.name() + " (first by name), which does "
                    + "not run weir-cni: new pods get no datapath", "reinstall the agent's CNI config (it writes "
                    + "00-weir.conflist), or remove " + chosen.name() + " if it is a leftover"));
        } else {
            findings.add(Finding.ok("cni config", "the runtime uses " + chosen.name() + ": " + String.join(" → ", types)));
        }
        if (state.configs().size() > 1) {
            List<String> others = state.configs().subList(1, state.configs().size()).stream()
                    .map(CniState.ConfigFile::name).toList();
            findings.add(Finding.warn("cni configs", "several network configurations: the runtime uses " + chosen.name()
                    + " and ignores " + others + "; a plugin that rewrites its file at start can take over",
                    "keep one configuration for the pod network (chain weir-cni into it) and remove the others"));
        }
        String version = first.path("cniVersion").asString("");
        for (String type : types) {
            if (!state.plugins().containsKey(type)) {
                findings.add(Finding.fail("cni plugins", chosen.name() + " runs plugin " + type
                        + ", which is not in the plugin directories: every pod start fails",
                        "install the " + type + " binary, or remove the configuration if its plugin was uninstalled"));
            } else if (!state.plugins().get(type).isEmpty() && !version.isEmpty()
                    && !state.plugins().get(type).contains(version)) {
                findings.add(Finding.fail("cni plugins", "plugin " + type + " speaks CNI " + state.plugins().get(type)
                        + ", not " + version + " as " + chosen.name() + " asks", "upgrade " + type
                        + " or write the configuration with a version it speaks"));
            } else if (type.equals(PLUGIN) && state.plugins().get(type).isEmpty()) {
                findings.add(Finding.fail("cni plugins", "weir-cni gave no VERSION answer: the binary is not "
                        + "weir-cni or is broken", "reinstall the agent (its init container copies the plugin)"));
            }
        }
        for (CniState.ConfigFile other : state.configs().subList(1, state.configs().size())) {
            JsonNode config = parse(other.text());
            if (config == null) {
                continue;
            }
            for (String type : types(config)) {
                if (!state.plugins().containsKey(type)) {
                    findings.add(Finding.warn("cni leftovers", other.name() + " names plugin " + type + ", which is "
                            + "not installed: a configuration left by an uninstalled plugin",
                            "remove " + state.confDir() + "/" + other.name()));
                    break;
                }
            }
        }
        return findings;
    }

    /** Every plugin type the configurations name (a .conf is one plugin, a .conflist a chain). */
    static Set<String> pluginTypes(List<CniState.ConfigFile> configs) {
        Set<String> types = new LinkedHashSet<>();
        for (CniState.ConfigFile config : configs) {
            JsonNode node = parse(config.text());
            if (node != null) {
                types.addAll(types(node));
            }
        }
        return types;
    }

    static List<String> types(JsonNode config) {
        List<String> types = new ArrayList<>();
        if (config.has("plugins")) {
            for (JsonNode plugin : config.path("plugins")) {
                types.add(plugin.path("type").asString(""));
                if (plugin.path("ipam").has("type")) {
                    types.add(plugin.path("ipam").path("type").asString(""));
                }
            }
        } else if (config.has("type")) {
            types.add(config.path("type").asString(""));
            if (config.path("ipam").has("type")) {
                types.add(config.path("ipam").path("type").asString(""));
            }
        }
        types.removeIf(String::isEmpty);
        return types;
    }

    private static JsonNode parse(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            return node != null && node.isObject() ? node : null;
        } catch (RuntimeException e) {
            return null;
        }
    }
}
