#!/usr/bin/env python3
"""Writes Weir's own conformance suite (../resources/conformance/weir-suite.json).

Each case is a set of policies and, for every probe, the pairs Kubernetes' network policy
semantics block, stated here as a plain predicate over (source, destination, port, protocol)
that follows the case's intent, the way Kubernetes' own e2e network policy tests state theirs.
The predicates are written from the semantics, independently of the compiler they check.

usage: python3 generate.py
"""
import json
import os

NAMESPACES = ["x", "y", "z"]
PODS = ["a", "b", "c"]
SUBNET = {"x": 1, "y": 2, "z": 3}
POD_HOST = {"a": 10, "b": 11, "c": 12}
PROBES = [(80, "TCP"), (80, "UDP"), (80, "SCTP"), (81, "TCP"), (81, "UDP"), (81, "SCTP")]


def ip(pod):
    ns, name = pod.split("/")
    return "198.18.%d.%d" % (SUBNET[ns], POD_HOST[name])


def model():
    ports = [{"name": "serve-%d-%s" % (p, proto.lower()), "port": p, "protocol": proto}
             for p in (80, 81) for proto in ("SCTP", "TCP", "UDP")]
    return {
        "namespaces": {ns: {"labels": {"ns": ns, "kubernetes.io/metadata.name": ns}} for ns in NAMESPACES},
        "pods": {"%s/%s" % (ns, p): {"labels": {"pod": p}, "ip": ip("%s/%s" % (ns, p)), "containerPorts": ports}
                 for ns in NAMESPACES for p in PODS},
    }


ALL = ["%s/%s" % (ns, p) for ns in NAMESPACES for p in PODS]


def ns(pod):
    return pod.split("/")[0]


def name(pod):
    return pod.split("/")[1]


def np(namespace, policy_name, spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": policy_name, "namespace": namespace}, "spec": spec}


def weir(namespace, policy_name, spec):
    metadata = {"name": policy_name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "weir.dev/v1", "kind": "WeirNetworkPolicy", "metadata": metadata, "spec": spec}


def pod_sel(pod_name):
    return {"matchLabels": {"pod": pod_name}}


def ns_sel(namespace):
    return {"matchLabels": {"ns": namespace}}


CASES = []


def case(case_id, title, policies, allowed):
    """allowed(src, dst, port, protocol) -> bool, for src != dst."""
    probes = []
    for port, protocol in PROBES:
        blocked = [s + "->" + d for s in ALL for d in ALL if s != d and not allowed(s, d, port, protocol)]
        probes.append({"port": port, "protocol": protocol, "blocked": blocked})
    CASES.append({"id": case_id, "title": title, "policies": policies, "probes": probes})


everything = lambda s, d, p, q: True

# --- isolation and defaulting -----------------------------------------------------------------
case("no-policy", "without policies every pod reaches every pod", [], everything)
case("allow-all-ingress-explicit", "an empty ingress rule allows everything",
     [np("x", "allow-all", {"podSelector": {}, "ingress": [{}]})], everything)
case("default-deny-ingress", "policyTypes Ingress without rules isolates every pod of x",
     [np("x", "deny", {"podSelector": {}, "policyTypes": ["Ingress"]})],
     lambda s, d, p, q: ns(d) != "x")
case("default-deny-ingress-implicit", "no policyTypes and no ingress still means Ingress",
     [np("x", "deny", {"podSelector": {}})],
     lambda s, d, p, q: ns(d) != "x")
case("default-deny-ingress-empty-list", "ingress: [] isolates without allowing anything",
     [np("x", "deny", {"podSelector": {}, "ingress": []})],
     lambda s, d, p, q: ns(d) != "x")
case("default-deny-egress", "policyTypes Egress without rules stops every pod of x from sending",
     [np("x", "deny", {"podSelector": {}, "policyTypes": ["Egress"]})],
     lambda s, d, p, q: ns(s) != "x")
case("default-deny-all", "Ingress and Egress without rules cut x off both ways",
     [np("x", "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})],
     lambda s, d, p, q: ns(s) != "x" and ns(d) != "x")
case("allow-all-egress", "an empty egress rule with policyTypes Egress allows everything",
     [np("x", "allow", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]})], everything)
case("egress-rules-imply-both-types", "egress rules without policyTypes isolate ingress too",
     [np("x", "to-y", {"podSelector": pod_sel("a"), "egress": [{"to": [{"namespaceSelector": ns_sel("y")}]}]})],
     lambda s, d, p, q: not (s == "x/a" and ns(d) != "y") and d != "x/a")
case("egress-only-type-ignores-ingress-rules", "ingress rules are ignored when policyTypes is only Egress",
     [np("x", "egress-only", {"podSelector": pod_sel("a"), "policyTypes": ["Egress"],
                              "ingress": [{"from": [{"podSelector": pod_sel("b")}]}]})],
     lambda s, d, p, q: s != "x/a")
case("selects-no-pod", "a policy whose podSelector matches no pod changes nothing",
     [np("x", "nobody", {"podSelector": pod_sel("d"), "policyTypes": ["Ingress", "Egress"]})], everything)
case("other-namespace-untouched", "a policy isolates only pods of its own namespace",
     [np("y", "deny-a", {"podSelector": pod_sel("a"), "policyTypes": ["Ingress"]})],
     lambda s, d, p, q: d != "y/a")

# --- peers -------------------------------------------------------------------------------------
case("from-same-namespace", "podSelector {} alone means every pod of the policy's namespace",
     [np("x", "same-ns", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"podSelector": {}}]}]})],
     lambda s, d, p, q: d != "x/a" or ns(s) == "x")
case("from-pod-in-namespace", "podSelector alone selects pods of the policy's namespace only",
     [np("x", "from-b", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"podSelector": pod_sel("b")}]}]})],
     lambda s, d, p, q: d != "x/a" or s == "x/b")
case("from-namespace", "namespaceSelector alone selects every pod of those namespaces",
     [np("x", "from-y", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": ns_sel("y")}]}]})],
     lambda s, d, p, q: ns(d) != "x" or ns(s) == "y")
case("namespace-and-pod-in-one-peer", "namespaceSelector and podSelector in one peer must both match",
     [np("x", "and", {"podSelector": pod_sel("a"), "ingress": [{"from": [
         {"namespaceSelector": ns_sel("y"), "podSelector": pod_sel("b")}]}]})],
     lambda s, d, p, q: d != "x/a" or s == "y/b")
case("namespace-or-pod-as-two-peers", "two peers are alternatives",
     [np("x", "or", {"podSelector": pod_sel("a"), "ingress": [{"from": [
         {"namespaceSelector": ns_sel("y")}, {"podSelector": pod_sel("b")}]}]})],
     lambda s, d, p, q: d != "x/a" or ns(s) == "y" or s == "x/b")
case("all-namespaces-pod-b", "namespaceSelector {} with podSelector selects those pods everywhere",
     [np("x", "any-b", {"podSelector": {}, "ingress": [{"from": [
         {"namespaceSelector": {}, "podSelector": pod_sel("b")}]}]})],
     lambda s, d, p, q: ns(d) != "x" or name(s) == "b")
case("from-all-namespaces", "namespaceSelector {} alone selects every pod",
     [np("x", "cluster", {"podSelector": pod_sel("c"), "ingress": [{"from": [{"namespaceSelector": {}}]}]})],
     everything)
case("match-expressions-in", "In matches listed values",
     [np("x", "in", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"podSelector": {"matchExpressions": [
         {"key": "pod", "operator": "In", "values": ["b", "c"]}]}}]}]})],
     lambda s, d, p, q: d != "x/a" or s in ("x/b", "x/c"))
case("match-expressions-not-in", "NotIn on namespaces",
     [np("x", "not-in", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
         {"key": "ns", "operator": "NotIn", "values": ["y"]}]}}]}]})],
     lambda s, d, p, q: d != "x/a" or ns(s) != "y")
case("match-expressions-not-in-absent-key", "NotIn holds where the key is absent",
     [np("x", "not-in-absent", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {
         "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]}}]}]})],
     everything)
case("match-expressions-exists", "Exists matches any value",
     [np("x", "exists", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {
         "matchExpressions": [{"key": "pod", "operator": "Exists"}]}}]}]})],
     everything)
case("match-expressions-does-not-exist", "DoesNotExist on a key every pod has matches nothing",
     [np("x", "does-not-exist", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {
         "matchExpressions": [{"key": "pod", "operator": "DoesNotExist"}]}}]}]})],
     lambda s, d, p, q: d != "x/a")
case("pod-selector-expressions", "matchExpressions on the policy's own podSelector",
     [np("x", "sel", {"podSelector": {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["a", "b"]}]},
                      "policyTypes": ["Ingress"]})],
     lambda s, d, p, q: d not in ("x/a", "x/b"))
case("empty-from-list", "from: [] matches every source",
     [np("x", "empty-from", {"podSelector": pod_sel("a"), "ingress": [{"from": []}]})], everything)

# --- ports -------------------------------------------------------------------------------------
case("port-tcp-80", "a numbered port defaults to TCP",
     [np("x", "80", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"port": 80}]}]})],
     lambda s, d, p, q: d != "x/a" or (p == 80 and q == "TCP"))
case("port-udp-80", "a UDP port",
     [np("x", "udp-80", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"protocol": "UDP", "port": 80}]}]})],
     lambda s, d, p, q: d != "x/a" or (p == 80 and q == "UDP"))
case("port-sctp-81", "an SCTP port",
     [np("x", "sctp-81", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"protocol": "SCTP", "port": 81}]}]})],
     lambda s, d, p, q: d != "x/a" or (p == 81 and q == "SCTP"))
case("named-port-ingress", "a named port resolves on the destination pod",
     [np("x", "named", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"port": "serve-81-tcp"}]}]})],
     lambda s, d, p, q: d != "x/a" or (p == 81 and q == "TCP"))
case("named-port-udp", "a named UDP port",
     [np("x", "named-udp", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"port": "serve-80-udp", "protocol": "UDP"}]}]})],
     lambda s, d, p, q: d != "x/a" or (p == 80 and q == "UDP"))
case("named-port-protocol-mismatch", "a UDP port's name with the default protocol TCP matches nothing",
     [np("x", "mismatch", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"port": "serve-80-udp"}]}]})],
     lambda s, d, p, q: d != "x/a")
case("end-port-range", "port with endPort covers the range",
     [np("x", "range", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"port": 80, "endPort": 81}]}]})],
     lambda s, d, p, q: d != "x/a" or q == "TCP")
case("end-port-partial", "a range that starts at 81",
     [np("x", "range", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"port": 81, "endPort": 90}]}]})],
     lambda s, d, p, q: d != "x/a" or (p == 81 and q == "TCP"))
case("end-port-kubernetes-docs", "Kubernetes' documentation's range (32000-32768) isolates and allows none of 80, 81",
     [np("x", "range", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"port": 32000, "endPort": 32768}]}]})],
     lambda s, d, p, q: d != "x/a")
case("end-port-every-udp-port", "UDP 1-65535 allows every UDP port and no TCP or SCTP",
     [np("x", "range", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"protocol": "UDP", "port": 1,
                                                                               "endPort": 65535}]}]})],
     lambda s, d, p, q: d != "x/a" or q == "UDP")
case("end-port-all-but-one", "TCP 2-65535: a range of 65,534 ports",
     [np("x", "range", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"port": 2, "endPort": 65535}]}]})],
     lambda s, d, p, q: d != "x/a" or q == "TCP")
case("end-port-excludes-its-neighbour", "TCP 81-32768 allows 81, not 80",
     [np("x", "range", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"port": 81, "endPort": 32768}]}]})],
     lambda s, d, p, q: d != "x/a" or (p == 81 and q == "TCP"))
case("protocol-only", "a protocol without a port allows all its ports",
     [np("x", "udp", {"podSelector": pod_sel("a"), "ingress": [{"ports": [{"protocol": "UDP"}]}]})],
     lambda s, d, p, q: d != "x/a" or q == "UDP")
case("empty-ports-list", "ports: [] means every port",
     [np("x", "all-ports", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"podSelector": pod_sel("b")}], "ports": []}]})],
     lambda s, d, p, q: d != "x/a" or s == "x/b")
case("peer-and-port", "a rule needs both its peer and its port",
     [np("x", "b-on-80", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"podSelector": pod_sel("b")}],
                                                                    "ports": [{"port": 80, "protocol": "TCP"}]}]})],
     lambda s, d, p, q: d != "x/a" or (s == "x/b" and p == 80 and q == "TCP"))
case("two-rules", "rules of one policy add up",
     [np("x", "two", {"podSelector": pod_sel("a"), "ingress": [
         {"from": [{"podSelector": pod_sel("b")}], "ports": [{"port": 80}]},
         {"from": [{"namespaceSelector": ns_sel("y")}], "ports": [{"port": 81, "protocol": "UDP"}]}]})],
     lambda s, d, p, q: d != "x/a" or (s == "x/b" and p == 80 and q == "TCP") or (ns(s) == "y" and p == 81 and q == "UDP"))

# --- egress ------------------------------------------------------------------------------------
case("egress-to-namespace", "egress to one namespace only",
     [np("x", "to-y", {"podSelector": pod_sel("a"), "policyTypes": ["Egress"],
                       "egress": [{"to": [{"namespaceSelector": ns_sel("y")}]}]})],
     lambda s, d, p, q: s != "x/a" or ns(d) == "y")
case("egress-port", "egress on one port",
     [np("x", "to-80", {"podSelector": pod_sel("a"), "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 80}]}]})],
     lambda s, d, p, q: s != "x/a" or (p == 80 and q == "TCP"))
case("egress-named-port", "an egress named port resolves on each destination",
     [np("x", "named-egress", {"podSelector": pod_sel("a"), "policyTypes": ["Egress"],
                               "egress": [{"to": [{"namespaceSelector": ns_sel("z")}],
                                           "ports": [{"port": "serve-81-udp", "protocol": "UDP"}]}]})],
     lambda s, d, p, q: s != "x/a" or (ns(d) == "z" and p == 81 and q == "UDP"))
case("ingress-and-egress", "both directions in one policy",
     [np("x", "both", {"podSelector": pod_sel("a"), "policyTypes": ["Ingress", "Egress"],
                       "ingress": [{"from": [{"namespaceSelector": ns_sel("y"), "podSelector": pod_sel("a")}]}],
                       "egress": [{"to": [{"namespaceSelector": ns_sel("z"), "podSelector": pod_sel("b")}]}]})],
     lambda s, d, p, q: (d != "x/a" or s == "y/a") and (s != "x/a" or d == "z/b"))
case("egress-deny-ingress-allow", "an egress default-deny on x and an ingress allow on y",
     [np("x", "no-egress", {"podSelector": {}, "policyTypes": ["Egress"]}),
      np("y", "allow", {"podSelector": {}, "ingress": [{}]})],
     lambda s, d, p, q: ns(s) != "x")
case("union-of-policies", "policies selecting one pod add up",
     [np("x", "from-y", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"namespaceSelector": ns_sel("y")}]}]}),
      np("x", "from-z-a", {"podSelector": pod_sel("a"), "ingress": [{"from": [
          {"namespaceSelector": ns_sel("z"), "podSelector": pod_sel("a")}]}]})],
     lambda s, d, p, q: d != "x/a" or ns(s) == "y" or s == "z/a")
case("deny-plus-allow-policy", "an isolating policy and an allowing one",
     [np("x", "deny", {"podSelector": {}, "policyTypes": ["Ingress"]}),
      np("x", "allow-b", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"podSelector": pod_sel("b")}]}]})],
     lambda s, d, p, q: ns(d) != "x" or (d == "x/a" and s == "x/b"))

# --- ipBlock -----------------------------------------------------------------------------------
case("ip-block-ingress", "ipBlock holding y's pod addresses",
     [np("x", "cidr", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"ipBlock": {"cidr": "198.18.2.0/24"}}]}]})],
     lambda s, d, p, q: d != "x/a" or ns(s) == "y")
case("ip-block-except", "ipBlock with an exception",
     [np("x", "cidr-except", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"ipBlock": {
         "cidr": "198.18.2.0/24", "except": ["198.18.2.11/32"]}}]}]})],
     lambda s, d, p, q: d != "x/a" or s in ("y/a", "y/c"))
case("ip-block-egress", "egress to an ipBlock",
     [np("x", "to-z", {"podSelector": pod_sel("a"), "policyTypes": ["Egress"],
                       "egress": [{"to": [{"ipBlock": {"cidr": "198.18.3.0/24"}}]}]})],
     lambda s, d, p, q: s != "x/a" or ns(d) == "z")
case("ip-block-egress-except", "egress to an ipBlock with an exception",
     [np("x", "to-z-not-a", {"podSelector": pod_sel("a"), "policyTypes": ["Egress"],
                             "egress": [{"to": [{"ipBlock": {"cidr": "198.18.3.0/24", "except": ["198.18.3.10/32"]}}]}]})],
     lambda s, d, p, q: s != "x/a" or d in ("z/b", "z/c"))
case("ip-block-everything", "0.0.0.0/0 holds every pod",
     [np("x", "anywhere", {"podSelector": pod_sel("a"), "policyTypes": ["Egress"],
                           "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]})],
     everything)
case("ip-block-wide-except-namespace", "a wide block except x's own subnet",
     [np("x", "not-x", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"ipBlock": {
         "cidr": "198.18.0.0/16", "except": ["198.18.1.0/24"]}}]}]})],
     lambda s, d, p, q: d != "x/a" or ns(s) != "x")
case("ip-block-and-port", "ipBlock with a port",
     [np("x", "cidr-port", {"podSelector": pod_sel("a"), "ingress": [{"from": [{"ipBlock": {"cidr": "198.18.3.0/24"}}],
                                                                      "ports": [{"port": 81, "protocol": "SCTP"}]}]})],
     lambda s, d, p, q: d != "x/a" or (ns(s) == "z" and p == 81 and q == "SCTP"))

# --- Weir's deny rules -------------------------------------------------------------------------
case("weir-deny-wins-over-allow", "a deny rule wins over an allow-all",
     [np("x", "allow-all", {"podSelector": {}, "ingress": [{}]}),
      weir("x", "deny-y", {"podSelector": pod_sel("a"), "ingressDeny": [{"from": [{"namespaceSelector": ns_sel("y")}]}]})],
     lambda s, d, p, q: d != "x/a" or ns(s) != "y")
case("weir-deny-alone", "a deny rule alone does not isolate",
     [weir("x", "deny-z-b", {"podSelector": pod_sel("a"), "ingressDeny": [{"from": [
         {"namespaceSelector": ns_sel("z"), "podSelector": pod_sel("b")}]}]})],
     lambda s, d, p, q: not (d == "x/a" and s == "z/b"))
case("weir-deny-port", "a deny rule on one port",
     [weir("x", "deny-81", {"podSelector": {}, "ingressDeny": [{"ports": [{"port": 81, "protocol": "UDP"}]}]})],
     lambda s, d, p, q: ns(d) != "x" or not (p == 81 and q == "UDP"))
case("weir-cluster-wide-egress-deny", "a cluster-wide deny from every pod to z/c",
     [weir("", "protect-z-c", {"podSelector": {}, "egressDeny": [{"to": [
         {"namespaceSelector": ns_sel("z"), "podSelector": pod_sel("c")}]}]})],
     lambda s, d, p, q: d != "z/c")

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "conformance", "weir-suite.json")
    with open(out, "w") as f:
        json.dump({"model": model(), "cases": CASES}, f, indent=1)
        f.write("\n")
    print("%d cases written to %s" % (len(CASES), os.path.relpath(out)))
