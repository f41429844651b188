package dev.weir.dns.analytics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A pod's DNS search list, and the names a query's name could have been asked as: a pod resolving
 * {@code cart} asks for {@code cart.shop.svc.cluster.local.} first, and the analytics need the name
 * the pod meant. Built once per namespace a client is seen in (a client keeps its namespace).
 */
final class SearchList {

    private final DnsSettings settings;
    private String namespace;
    /** The search suffixes of {@link #namespace}, most specific first, each as ".suffix." to end a name in. */
    private List<String> dottedSuffixes;

    SearchList(DnsSettings settings) {
        this.settings = settings;
    }

    /** This search list, for a namespace. */
    SearchList of(String namespace) {
        if (dottedSuffixes == null || !namespace.equals(this.namespace)) {
            List<String> dotted = new ArrayList<>();
            for (String suffix : settings.searchSuffixes(namespace)) {
                dotted.add("." + suffix);
            }
            this.dottedSuffixes = dotted;
            this.namespace = namespace;
        }
        return this;
    }

    /** Every name the given one could have been asked as: it without each search suffix it ends in. */
    List<String> bases(String name) {
        String dotted = bare(name) + ".";
        List<String> bases = new ArrayList<>(dottedSuffixes.size());
        for (String suffix : dottedSuffixes) {
            if (dotted.endsWith(suffix) && dotted.length() > suffix.length()) {
                bases.add(dotted.substring(0, dotted.length() - suffix.length()));
            }
        }
        return bases;
    }

    /** The name without the search suffix that made it (null when it has none: asked as it is). */
    String base(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        String dotted = lower.endsWith(".") ? lower : lower + ".";
        for (String suffix : dottedSuffixes) {
            if (dotted.endsWith(suffix) && dotted.length() > suffix.length()) {
                return dotted.substring(0, dotted.length() - suffix.length());
            }
        }
        return null;
    }

    /** A name in lower case, without its trailing dot. */
    static String bare(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }
}
