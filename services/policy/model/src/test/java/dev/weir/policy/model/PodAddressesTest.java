package dev.weir.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The pods a block holds, found by binary search, against testing every pod. */
class PodAddressesTest {

    @Test
    void aBlockHoldsExactlyThePodsWhoseAddressItContains() {
        Random random = new Random(5);
        List<Cluster.Pod> pods = new ArrayList<>();
        Map<String, Integer> identities = new HashMap<>();
        for (int i = 0; i < 400; i++) {
            // both halves of the address space, a few shared addresses, and some IPv6
            String ip = i % 20 == 0 ? "fd00::" + Integer.toHexString(random.nextInt(4096))
                    : i % 7 == 0 ? "198.18.0." + random.nextInt(4)
                    : random.nextInt(256) + "." + random.nextInt(256) + ".0." + random.nextInt(256);
            Cluster.Pod pod = new Cluster.Pod("ns", "pod-" + i, Map.of(), ip, List.of(), "", 0);
            pods.add(pod);
            identities.put(pod.key(), 1000 + i);
        }
        PodAddresses addresses = new PodAddresses(pods, identities);
        for (int b = 0; b < 2_000; b++) {
            Cluster.Pod anchor = pods.get(random.nextInt(pods.size()));
            Cidr host = Cidr.host(anchor.ip());
            Cidr block = Cidr.parse(anchor.ip() + "/" + random.nextInt(host.address().length * 8 + 1));
            List<Integer> expected = new ArrayList<>();
            for (Cluster.Pod pod : pods) {
                if (block.contains(Cidr.host(pod.ip()))) {
                    expected.add(identities.get(pod.key()));
                }
            }
            List<Integer> found = new ArrayList<>();
            addresses.within(block, (podHost, identity) -> {
                assertThat(block.contains(podHost)).isTrue();
                found.add(identity);
            });
            assertThat(found).as(block.toString()).containsExactlyInAnyOrderElementsOf(expected);
        }
        assertThat(countWithin(addresses, "0.0.0.0/0")).isEqualTo(pods.stream().filter(p -> !p.ip().contains(":")).count());
        assertThat(countWithin(addresses, "::/0")).isEqualTo(pods.stream().filter(p -> p.ip().contains(":")).count());
    }

    private static long countWithin(PodAddresses addresses, String block) {
        long[] count = {0};
        addresses.within(Cidr.parse(block), (host, identity) -> count[0]++);
        return count[0];
    }
}
