package dev.weir.policy.model;

import dev.weir.policy.model.Policy.Entity;
import dev.weir.schemas.yaml.StrictYaml;
import dev.weir.policy.model.Policy.IpBlock;
import dev.weir.policy.model.Policy.Peer;
import dev.weir.policy.model.Policy.Port;
import dev.weir.policy.model.Policy.Rule;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads policies written as Kubernetes objects, in YAML or JSON: networking.k8s.io/v1
 * NetworkPolicy, and Weir's weir.dev/v1 WeirNetworkPolicy (the same spec plus ingressDeny and
 * egressDeny rules, fromEntities/toEntities, and an empty namespace for a cluster-wide policy).
 * Every problem is an {@link InvalidPolicy} naming the field path and what is wrong; an unknown
 * field is a problem, not something silently ignored.
 */
public final class PolicyParser {

    public static final String K8S_API = "networking.k8s.io/v1";
    public static final String WEIR_API = "weir.dev/v1";

    /** Duplicate keys in JSON are refused, as in YAML. */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(tools.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern LABEL_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
    private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

    /** A policy that cannot be accepted: which field, and why. */
    public static final class InvalidPolicy extends IllegalArgumentException {
        private final String field;

        public InvalidPolicy(String field, String problem) {
            super(field + ": " + problem);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    private PolicyParser() {
    }

    /** A policy and the object it was read from, for storing it as written. */
    public record Parsed(Policy policy, JsonNode source) {
        public String json() {
            return JSON.writeValueAsString(source);
        }
    }

    /** Parses one or more documents (YAML "---" separated, a JSON object, or a List). */
    public static List<Policy> parse(String text) {
        return parseWithSource(text).stream().map(Parsed::policy).toList();
    }

    /** Parses a single stored policy object (JSON). */
    public static Policy parseStored(String json) {
        return policy(JSON.readTree(json), "");
    }

    /** As {@link #parse(String)}, keeping each policy's source object. */
    public static List<Parsed> parseWithSource(String text) {
        List<JsonNode> documents = new ArrayList<>();
        try {
            String trimmed = text.stripLeading();
            if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
                documents.add(JSON.readTree(text));
            } else {
                for (Object document : StrictYaml.loadAll(text)) {
                    documents.add(JSON.valueToTree(document));
                }
            }
        } catch (JacksonException e) {
            throw new InvalidPolicy("(document)", "not valid YAML or JSON: " + e.getOriginalMessage());
        } catch (StrictYaml.InvalidYaml e) {
            throw new InvalidPolicy(e.where(), e.getMessage().substring(e.where().length() + 2));
        }
        List<Parsed> policies = new ArrayList<>();
        for (int d = 0; d < documents.size(); d++) {
            JsonNode document = documents.get(d);
            String prefix = documents.size() > 1 ? "[" + d + "]." : "";
            if (document.isArray()) {
                for (int i = 0; i < document.size(); i++) {
                    policies.add(new Parsed(policy(document.get(i), prefix + "[" + i + "]."), document.get(i)));
                }
            } else if (document.path("kind").isString() && "List".equals(document.get("kind").asString())) {
                JsonNode items = document.get("items");
                if (items != null && !items.isNull()) {
                    array(items, prefix + "items");
                }
                for (int i = 0; items != null && i < items.size(); i++) {
                    policies.add(new Parsed(policy(items.get(i), prefix + "items[" + i + "]."), items.get(i)));
                }
            } else {
                policies.add(new Parsed(policy(document, prefix), document));
            }
        }
        return policies;
    }

    /** Parses one policy object. */
    public static Policy policy(JsonNode node, String at) {
        object(node, at.isEmpty() ? "(document)" : at.substring(0, at.length() - 1));
        fields(node, at, "apiVersion", "kind", "metadata", "spec", "status");
        String api = text(node, at + "apiVersion", true);
        String kind = text(node, at + "kind", true);
        boolean weir;
        if (K8S_API.equals(api) && Policy.NETWORK_POLICY.equals(kind)) {
            weir = false;
        } else if (WEIR_API.equals(api) && Policy.WEIR_POLICY.equals(kind)) {
            weir = true;
        } else {
            throw new InvalidPolicy(at + "kind", "'" + api + "/" + kind + "' is neither " + K8S_API + " NetworkPolicy nor "
                    + WEIR_API + " WeirNetworkPolicy");
        }
        JsonNode metadata = node.get("metadata");
        object(metadata, at + "metadata");
        fields(metadata, at + "metadata.", "name", "namespace", "labels", "annotations", "uid", "resourceVersion",
                "generation", "creationTimestamp", "managedFields", "finalizers", "ownerReferences", "selfLink",
                "generateName", "deletionTimestamp", "deletionGracePeriodSeconds");
        String name = text(metadata, at + "metadata.name", true);
        dnsName(name, at + "metadata.name");
        String namespace = metadata.has("namespace") ? text(metadata, at + "metadata.namespace", true) : (weir ? "" : "default");
        if (!namespace.isEmpty()) {
            dnsName(namespace, at + "metadata.namespace");
        }
        String s = at + "spec";
        JsonNode spec = node.get("spec");
        object(spec, s);
        if (weir) {
            fields(spec, s + ".", "podSelector", "policyTypes", "ingress", "egress", "ingressDeny", "egressDeny");
        } else {
            fields(spec, s + ".", "podSelector", "policyTypes", "ingress", "egress");
        }
        if (!spec.has("podSelector")) {
            throw new InvalidPolicy(s + ".podSelector", "is required ({} selects every pod of the namespace)");
        }
        LabelSelector podSelector = selector(spec.get("podSelector"), s + ".podSelector");
        List<Rule> ingress = rules(spec.get("ingress"), s + ".ingress", "from", weir);
        List<Rule> egress = rules(spec.get("egress"), s + ".egress", "to", weir);
        List<Rule> ingressDeny = rules(spec.get("ingressDeny"), s + ".ingressDeny", "from", weir);
        List<Rule> egressDeny = rules(spec.get("egressDeny"), s + ".egressDeny", "to", weir);
        boolean isolatesIngress;
        boolean isolatesEgress;
        // An empty list is no list: the API server defaults both alike.
        if (spec.has("policyTypes") && !spec.get("policyTypes").isNull()) {
            array(spec.get("policyTypes"), s + ".policyTypes");
        }
        if (spec.has("policyTypes") && !spec.get("policyTypes").isNull() && !spec.get("policyTypes").isEmpty()) {
            JsonNode types = spec.get("policyTypes");
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < types.size(); i++) {
                String type = types.get(i).isString() ? types.get(i).asString() : types.get(i).toString();
                if (!type.equals("Ingress") && !type.equals("Egress")) {
                    throw new InvalidPolicy(s + ".policyTypes[" + i + "]", "'" + type + "' is neither Ingress nor Egress");
                }
                seen.add(type);
            }
            isolatesIngress = seen.contains("Ingress");
            isolatesEgress = seen.contains("Egress");
        } else if (weir) {
            // Weir's kind isolates a direction only where it has allow rules for it, so that a
            // policy of deny rules alone takes nothing else away (as Cilium's deny policies do).
            isolatesIngress = !ingress.isEmpty();
            isolatesEgress = !egress.isEmpty();
        } else {
            // Kubernetes' defaulting: Ingress always; Egress when the policy has egress rules.
            isolatesIngress = true;
            isolatesEgress = !egress.isEmpty();
        }
        return new Policy(weir ? Policy.WEIR_POLICY : Policy.NETWORK_POLICY, namespace, name, podSelector,
                isolatesIngress, isolatesEgress, ingress, egress, ingressDeny, egressDeny);
    }

    private static List<Rule> rules(JsonNode node, String at, String peersField, boolean weir) {
        List<Rule> rules = new ArrayList<>();
        if (node == null || node.isNull()) {
            return rules;
        }
        array(node, at);
        String entitiesField = peersField.equals("from") ? "fromEntities" : "toEntities";
        for (int i = 0; i < node.size(); i++) {
            String r = at + "[" + i + "]";
            JsonNode rule = node.get(i);
            object(rule, r);
            if (weir && peersField.equals("to")) {
                fields(rule, r + ".", peersField, "ports", entitiesField, "toFQDNs");
            } else if (weir) {
                fields(rule, r + ".", peersField, "ports", entitiesField);
            } else {
                fields(rule, r + ".", peersField, "ports");
            }
            List<Peer> peers = new ArrayList<>();
            JsonNode list = rule.get(peersField);
            if (list != null && !list.isNull()) {
                array(list, r + "." + peersField);
                for (int p = 0; p < list.size(); p++) {
                    peers.add(peer(list.get(p), r + "." + peersField + "[" + p + "]"));
                }
            }
            JsonNode entities = rule.get(entitiesField);
            if (entities != null && !entities.isNull()) {
                array(entities, r + "." + entitiesField);
                for (int e = 0; e < entities.size(); e++) {
                    String value = entities.get(e).asString("");
                    try {
                        peers.add(new Peer(null, null, null,
                                Entity.valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'))));
                    } catch (IllegalArgumentException ex) {
                        throw new InvalidPolicy(r + "." + entitiesField + "[" + e + "]", "'" + value
                                + "' is not an entity (world, cluster, host, remote-node, kube-apiserver, all)");
                    }
                }
            }
            JsonNode fqdns = rule.get("toFQDNs");
            if (fqdns != null && !fqdns.isNull()) {
                array(fqdns, r + ".toFQDNs");
                for (int f = 0; f < fqdns.size(); f++) {
                    String at2 = r + ".toFQDNs[" + f + "]";
                    JsonNode fqdn = fqdns.get(f);
                    object(fqdn, at2);
                    fields(fqdn, at2 + ".", "matchName", "matchPattern");
                    String name = fqdn.has("matchName") ? text(fqdn, at2 + ".matchName", true) : null;
                    String pattern = fqdn.has("matchPattern") ? text(fqdn, at2 + ".matchPattern", true) : null;
                    if ((name == null) == (pattern == null)) {
                        throw new InvalidPolicy(at2, "needs exactly one of matchName and matchPattern");
                    }
                    String value = name != null ? name : pattern;
                    if (!value.matches("[-a-zA-Z0-9_.*]+")) {
                        throw new InvalidPolicy(at2 + (name != null ? ".matchName" : ".matchPattern"), "'" + value
                                + "' is not a DNS name" + (name != null ? "" : " pattern"));
                    }
                    if (name != null && name.contains("*")) {
                        throw new InvalidPolicy(at2 + ".matchName", "'" + name + "' has a wildcard: use matchPattern");
                    }
                    peers.add(new Peer(null, null, null, null, new Policy.Fqdn(name, pattern)));
                }
            }
            List<Port> ports = new ArrayList<>();
            JsonNode portList = rule.get("ports");
            if (portList != null && !portList.isNull()) {
                array(portList, r + ".ports");
                for (int p = 0; p < portList.size(); p++) {
                    ports.add(port(portList.get(p), r + ".ports[" + p + "]"));
                }
            }
            rules.add(new Rule(peers, ports));
        }
        return rules;
    }

    private static Peer peer(JsonNode node, String at) {
        object(node, at);
        fields(node, at + ".", "podSelector", "namespaceSelector", "ipBlock");
        boolean hasIpBlock = node.has("ipBlock") && !node.get("ipBlock").isNull();
        boolean hasPod = node.has("podSelector") && !node.get("podSelector").isNull();
        boolean hasNamespace = node.has("namespaceSelector") && !node.get("namespaceSelector").isNull();
        if (hasIpBlock && (hasPod || hasNamespace)) {
            throw new InvalidPolicy(at, "ipBlock cannot be combined with podSelector or namespaceSelector");
        }
        if (!hasIpBlock && !hasPod && !hasNamespace) {
            throw new InvalidPolicy(at, "must have podSelector, namespaceSelector or ipBlock");
        }
        if (hasIpBlock) {
            JsonNode block = node.get("ipBlock");
            object(block, at + ".ipBlock");
            fields(block, at + ".ipBlock.", "cidr", "except");
            Cidr cidr = cidr(text(block, at + ".ipBlock.cidr", true), at + ".ipBlock.cidr");
            List<Cidr> except = new ArrayList<>();
            JsonNode list = block.get("except");
            if (list != null && !list.isNull()) {
                array(list, at + ".ipBlock.except");
                for (int i = 0; i < list.size(); i++) {
                    String e = at + ".ipBlock.except[" + i + "]";
                    Cidr c = cidr(list.get(i).asString(""), e);
                    if (!cidr.contains(c) || c.equals(cidr)) {
                        throw new InvalidPolicy(e, c + " is not strictly inside " + cidr);
                    }
                    except.add(c);
                }
            }
            return new Peer(null, null, new IpBlock(cidr, except), null);
        }
        return new Peer(hasPod ? selector(node.get("podSelector"), at + ".podSelector") : null,
                hasNamespace ? selector(node.get("namespaceSelector"), at + ".namespaceSelector") : null, null, null);
    }

    private static Port port(JsonNode node, String at) {
        object(node, at);
        fields(node, at + ".", "protocol", "port", "endPort");
        Protocol protocol = Protocol.TCP;
        if (node.has("protocol") && !node.get("protocol").isNull()) {
            String value = node.get("protocol").asString("");
            try {
                protocol = Protocol.valueOf(value);
            } catch (IllegalArgumentException e) {
                throw new InvalidPolicy(at + ".protocol", "'" + value + "' is not TCP, UDP or SCTP");
            }
        }
        JsonNode port = node.get("port");
        Integer number = null;
        String name = null;
        if (port != null && !port.isNull()) {
            if (port.isIntegralNumber()) {
                number = port.asInt();
                if (number < 1 || number > 65535) {
                    throw new InvalidPolicy(at + ".port", number + " is out of range 1-65535");
                }
            } else if (port.isString()) {
                String text = port.asString();
                if (text.matches("[0-9]+")) {
                    throw new InvalidPolicy(at + ".port", "'" + text + "' is a number written as a string; write " + text);
                }
                if (text.length() > 15 || !PORT_NAME.matcher(text).matches() || !text.matches(".*[a-z].*")) {
                    throw new InvalidPolicy(at + ".port", "'" + text + "' is not a valid port name (IANA_SVC_NAME)");
                }
                name = text;
            } else {
                throw new InvalidPolicy(at + ".port", "must be a number or a port name");
            }
        }
        Integer endPort = null;
        if (node.has("endPort") && !node.get("endPort").isNull()) {
            if (!node.get("endPort").isIntegralNumber()) {
                throw new InvalidPolicy(at + ".endPort", "must be a number");
            }
            endPort = node.get("endPort").asInt();
            if (number == null) {
                throw new InvalidPolicy(at + ".endPort", "requires a numeric port");
            }
            if (endPort < number || endPort > 65535) {
                throw new InvalidPolicy(at + ".endPort", endPort + " must be within " + number + "-65535");
            }
        }
        return new Port(protocol, number, endPort, name);
    }

    static LabelSelector selector(JsonNode node, String at) {
        if (node == null || node.isNull()) {
            return LabelSelector.EVERYTHING;
        }
        object(node, at);
        fields(node, at + ".", "matchLabels", "matchExpressions");
        Map<String, String> labels = new LinkedHashMap<>();
        JsonNode match = node.get("matchLabels");
        if (match != null && !match.isNull()) {
            object(match, at + ".matchLabels");
            for (Map.Entry<String, JsonNode> e : match.properties()) {
                labelKey(e.getKey(), at + ".matchLabels");
                if (!e.getValue().isString() && !e.getValue().isNumber() && !e.getValue().isBoolean()) {
                    throw new InvalidPolicy(at + ".matchLabels." + e.getKey(), "must be a string");
                }
                String value = e.getValue().asString();
                labelValue(value, at + ".matchLabels." + e.getKey());
                labels.put(e.getKey(), value);
            }
        }
        List<LabelSelector.Requirement> requirements = new ArrayList<>();
        JsonNode expressions = node.get("matchExpressions");
        if (expressions != null && !expressions.isNull()) {
            array(expressions, at + ".matchExpressions");
            for (int i = 0; i < expressions.size(); i++) {
                String e = at + ".matchExpressions[" + i + "]";
                JsonNode expression = expressions.get(i);
                object(expression, e);
                fields(expression, e + ".", "key", "operator", "values");
                String key = text(expression, e + ".key", true);
                labelKey(key, e + ".key");
                String operator = text(expression, e + ".operator", true);
                LabelSelector.Operator op = switch (operator) {
                    case "In" -> LabelSelector.Operator.IN;
                    case "NotIn" -> LabelSelector.Operator.NOT_IN;
                    case "Exists" -> LabelSelector.Operator.EXISTS;
                    case "DoesNotExist" -> LabelSelector.Operator.DOES_NOT_EXIST;
                    default -> throw new InvalidPolicy(e + ".operator", "'" + operator
                            + "' is not In, NotIn, Exists or DoesNotExist");
                };
                Set<String> values = new HashSet<>();
                JsonNode list = expression.get("values");
                if (list != null && !list.isNull()) {
                    array(list, e + ".values");
                    for (int v = 0; v < list.size(); v++) {
                        values.add(list.get(v).asString(""));
                    }
                }
                boolean needsValues = op == LabelSelector.Operator.IN || op == LabelSelector.Operator.NOT_IN;
                if (needsValues && values.isEmpty()) {
                    throw new InvalidPolicy(e + ".values", "must not be empty for " + operator);
                }
                if (!needsValues && !values.isEmpty()) {
                    throw new InvalidPolicy(e + ".values", "must be empty for " + operator);
                }
                requirements.add(new LabelSelector.Requirement(key, op, Set.copyOf(values)));
            }
        }
        return new LabelSelector(labels, requirements);
    }

    private static Cidr cidr(String text, String at) {
        try {
            return Cidr.parse(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidPolicy(at, e.getMessage());
        }
    }

    private static void fields(JsonNode node, String at, String... allowed) {
        Set<String> known = Set.of(allowed);
        Iterator<String> names = node.propertyNames().iterator();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new InvalidPolicy(at + name, "unknown field");
            }
        }
    }

    private static void object(JsonNode node, String at) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            throw new InvalidPolicy(at, "is required");
        }
        if (!node.isObject()) {
            throw new InvalidPolicy(at, "must be an object");
        }
    }

    private static void array(JsonNode node, String at) {
        if (!node.isArray()) {
            throw new InvalidPolicy(at, "must be a list");
        }
    }

    private static String text(JsonNode node, String at, boolean required) {
        String field = at.substring(at.lastIndexOf('.') + 1);
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            if (required) {
                throw new InvalidPolicy(at, "is required");
            }
            return null;
        }
        if (!value.isString()) {
            throw new InvalidPolicy(at, "must be a string");
        }
        return value.asString();
    }

    private static void dnsName(String name, String at) {
        if (name.length() > 253 || !DNS_LABEL.matcher(name).matches() && !name.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?")) {
            throw new InvalidPolicy(at, "'" + name + "' is not a valid name (lower-case alphanumerics and '-')");
        }
    }

    /** Whether a label (key and value) is one Kubernetes accepts, and so one a selector may name. */
    public static boolean validLabel(String key, String value) {
        try {
            labelKey(key, "");
            labelValue(value, "");
            return true;
        } catch (InvalidPolicy e) {
            return false;
        }
    }

    /** Whether a namespace's name is one Kubernetes accepts (a DNS-1123 label). */
    public static boolean validNamespace(String name) {
        return name.length() <= 63 && name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    }

    private static void labelKey(String key, String at) {
        String name = key.contains("/") ? key.substring(key.indexOf('/') + 1) : key;
        String prefix = key.contains("/") ? key.substring(0, key.indexOf('/')) : null;
        if (prefix != null && (prefix.isEmpty() || prefix.length() > 253
                || !prefix.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"))) {
            throw new InvalidPolicy(at, "'" + key + "' has a prefix that is no DNS subdomain");
        }
        if (name.isEmpty() || name.length() > 63 || !LABEL_NAME.matcher(name).matches()) {
            throw new InvalidPolicy(at, "'" + key + "' is not a valid label key");
        }
    }

    private static void labelValue(String value, String at) {
        if (!value.isEmpty() && (value.length() > 63 || !LABEL_NAME.matcher(value).matches())) {
            throw new InvalidPolicy(at, "'" + value + "' is not a valid label value");
        }
    }
}
