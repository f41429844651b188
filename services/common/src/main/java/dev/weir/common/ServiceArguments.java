package dev.weir.common;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Command-line arguments for a Weir service: its own configuration file's name (services sharing
 * a classpath, as on the embedded platform, must not read each other's application.properties)
 * and settings, which as arguments win over that file (properties given to a
 * SpringApplicationBuilder are only defaults).
 */
public final class ServiceArguments {

    private ServiceArguments() {
    }

    public static String[] of(String configName, Map<String, String> settings) {
        List<String> args = new ArrayList<>();
        args.add("--spring.config.name=" + configName);
        settings.forEach((k, v) -> args.add("--" + k + "=" + v));
        return args.toArray(String[]::new);
    }

    /** A main method's arguments with the service's configuration name added. */
    public static String[] withConfig(String configName, String[] args) {
        String[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = "--spring.config.name=" + configName;
        return all;
    }
}
