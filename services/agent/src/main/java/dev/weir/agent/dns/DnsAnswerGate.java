package dev.weir.agent.dns;

import java.net.InetAddress;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides whether a DNS answer a pod received may widen toFQDNs policy. A pod is an attacker: it
 * can send any UDP packet from port 53 with any answer to any other pod. An answer counts only
 * when it comes from one of the cluster's resolvers, to a pod of this node that asked that
 * resolver exactly this (same client port, message id and name) a moment ago, and it is taken
 * at most once per query. What it grants is capped: the TTL and the number of addresses.
 * Everything refused is counted by reason. Bounded: past maxOutstanding queries the oldest is
 * forgotten (its answer is then refused, never guessed). Used by the flow reader's thread only.
 */
public final class DnsAnswerGate {

    /** Why an answer did not count. */
    public enum Refusal {
        NOT_FROM_RESOLVER, NO_MATCHING_QUERY, LATE, TOO_MANY_ADDRESSES_CAPPED, TTL_CAPPED
    }

    /** An answer that counts, with its TTL and addresses as capped. */
    public record Accepted(String name, List<String> ips, int ttlSeconds) {
    }

    private record Query(String client, int clientPort, InetAddress resolver, int id, String name) {
    }

    private final Set<InetAddress> resolvers;
    private final long timeoutNs;
    private final int maxOutstanding;
    private final int maxTtlSeconds;
    private final int maxAddresses;
    private final Map<Query, Long> outstanding = new LinkedHashMap<>();
    private final java.util.concurrent.atomic.AtomicLongArray refused =
            new java.util.concurrent.atomic.AtomicLongArray(Refusal.values().length);

    public DnsAnswerGate(Set<InetAddress> resolvers, java.time.Duration timeout, int maxOutstanding, int maxTtlSeconds,
            int maxAddresses) {
        this.resolvers = Set.copyOf(resolvers);
        this.timeoutNs = timeout.toNanos();
        this.maxOutstanding = maxOutstanding;
        this.maxTtlSeconds = maxTtlSeconds;
        this.maxAddresses = maxAddresses;
    }

    /** A query a local pod sent (seen leaving it), from client:clientPort to resolver. */
    public void query(InetAddress client, int clientPort, InetAddress resolver, int id, String name, long nowNs) {
        if (!resolvers.contains(resolver)) {
            return; // its answer will not count anyway
        }
        expire(nowNs);
        if (outstanding.size() >= maxOutstanding) {
            Iterator<Query> oldest = outstanding.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
        outstanding.put(new Query(client.getHostAddress(), clientPort, resolver, id, name.toLowerCase()), nowNs);
    }

    /**
     * An answer a local pod received (seen entering it), from resolver to client:clientPort.
     *
     * @return what counts of it, or null when nothing does (the reason is counted)
     */
    public Accepted answer(InetAddress resolver, InetAddress client, int clientPort, int id, String name,
            List<String> ips, int ttlSeconds, long nowNs) {
        if (!resolvers.contains(resolver)) {
            return refuse(Refusal.NOT_FROM_RESOLVER);
        }
        Long asked = outstanding.remove(new Query(client.getHostAddress(), clientPort, resolver, id, name.toLowerCase()));
        if (asked == null) {
            return refuse(Refusal.NO_MATCHING_QUERY);
        }
        if (nowNs - asked > timeoutNs) {
            return refuse(Refusal.LATE);
        }
        List<String> kept = ips;
        if (ips.size() > maxAddresses) {
            kept = ips.subList(0, maxAddresses);
            count(Refusal.TOO_MANY_ADDRESSES_CAPPED);
        }
        int ttl = ttlSeconds;
        if (ttl > maxTtlSeconds) {
            ttl = maxTtlSeconds;
            count(Refusal.TTL_CAPPED);
        }
        return new Accepted(name, List.copyOf(kept), ttl);
    }

    private Accepted refuse(Refusal reason) {
        count(reason);
        return null;
    }

    private void count(Refusal reason) {
        refused.incrementAndGet(reason.ordinal());
    }

    private void expire(long nowNs) {
        Iterator<Map.Entry<Query, Long>> entries = outstanding.entrySet().iterator();
        while (entries.hasNext()) {
            if (nowNs - entries.next().getValue() <= timeoutNs) {
                break; // insertion order is time order
            }
            entries.remove();
        }
    }

    /** Answers refused (or capped) so far, by reason. */
    public long refused(Refusal reason) {
        return refused.get(reason.ordinal());
    }

    public int outstanding() {
        return outstanding.size();
    }
}
