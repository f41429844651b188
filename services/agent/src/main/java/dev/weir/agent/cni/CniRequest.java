package dev.weir.agent.cni;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * One CNI call as weir-cni forwards it: the CNI_* variables and the network configuration.
 * The wire form (see agent-native/cni/weir-cni.c): a "WEIR-CNI 1" line, one NAME=value line per
 * variable, an empty line, then the configuration bytes.
 */
public record CniRequest(String command, String containerId, String netns, String ifname, Map<String, String> args,
        String path, byte[] config) {

    static final String MAGIC = "WEIR-CNI 1";
    /** weir-cni refuses a larger configuration before sending it; this side checks again. */
    static final int MAX_CONFIG = 1 << 20;
    static final int MAX_HEADER = 64 * 1024;

    /** Parses the wire form; a malformed request is an {@link IllegalArgumentException} naming what is wrong. */
    public static CniRequest parse(byte[] wire) {
        int at = 0;
        Map<String, String> variables = new HashMap<>();
        boolean first = true;
        while (true) {
            int end = indexOf(wire, (byte) '\n', at);
            if (end < 0 || end > MAX_HEADER) {
                throw new IllegalArgumentException("the request has no end of its variables");
            }
            String line = new String(wire, at, end - at, StandardCharsets.UTF_8);
            at = end + 1;
            if (first) {
                if (!line.equals(MAGIC)) {
                    throw new IllegalArgumentException("not a weir-cni request");
                }
                first = false;
                continue;
            }
            if (line.isEmpty()) {
                break;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("malformed variable line");
            }
            variables.put(line.substring(0, eq), line.substring(eq + 1));
        }
        byte[] config = java.util.Arrays.copyOfRange(wire, at, wire.length);
        if (config.length > MAX_CONFIG) {
            throw new IllegalArgumentException("network configuration larger than 1 MiB");
        }
        String command = variables.getOrDefault("CNI_COMMAND", "");
        return new CniRequest(command, variables.getOrDefault("CNI_CONTAINERID", ""),
                variables.getOrDefault("CNI_NETNS", ""), variables.getOrDefault("CNI_IFNAME", ""),
                parseArgs(variables.getOrDefault("CNI_ARGS", "")), variables.getOrDefault("CNI_PATH", ""), config);
    }

    /** CNI_ARGS: "K=V;K=V" (the runtime's; kubelet passes K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID). */
    static Map<String, String> parseArgs(String args) {
        Map<String, String> parsed = new HashMap<>();
        for (String pair : args.split(";")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                parsed.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return Map.copyOf(parsed);
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** The CNI_* variables again, for a delegated plugin (the IPAM plugin of standalone mode). */
    public Map<String, String> environment(String commandOverride) {
        Map<String, String> env = new HashMap<>();
        env.put("CNI_COMMAND", commandOverride);
        env.put("CNI_CONTAINERID", containerId);
        env.put("CNI_NETNS", netns);
        env.put("CNI_IFNAME", ifname);
        env.put("CNI_PATH", path);
        StringBuilder a = new StringBuilder();
        args.forEach((k, v) -> a.append(a.length() == 0 ? "" : ";").append(k).append('=').append(v));
        env.put("CNI_ARGS", a.toString());
        return env;
    }
}
