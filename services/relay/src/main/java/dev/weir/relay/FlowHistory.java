package dev.weir.relay;

import dev.weir.proto.flow.v1.Flow;
import dev.weir.proto.observer.v1.FlowFilter;
import dev.weir.schemas.TopicCatalogue;
import dev.weir.schemas.TopicId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import org.springframework.stereotype.Component;

/**
 * The cluster's flow history, read back from the flows topic ({@link FlowScan}): the first or the
 * last N matching flows between two instants (by the flow's own time), or every match streamed as
 * it is found. Flows that do not decode are skipped and counted; a scan that hits its bounds says so.
 */
@Component
public class FlowHistory {

    /** The answer: flows in time order, and how the scan went. */
    public record Result(List<Flow> flows, long scanned, long undecodable, boolean truncated) {
    }

    /** Agents publish a flow moments after it happened: look this much further for flows up to until. */
    private static final Duration PUBLISH_DELAY = Duration.ofSeconds(10);

    static final Comparator<Flow> BY_TIME = Comparator.comparingLong((Flow f) -> f.getTime().getSeconds())
            .thenComparingInt(f -> f.getTime().getNanos()).thenComparing(Flow::getUuid);

    private final FlowScan scan;

    public FlowHistory(RelayApplication.RelayProperties properties) {
        this.scan = new FlowScan(properties.kafka(), TopicCatalogue.standard().name(TopicId.FLOWS),
                properties.scanReaders(), properties.scanMaxRecords(), properties.scanMaxTime());
    }

    public Result query(Instant since, Instant until, List<FlowFilter> whitelist, List<FlowFilter> blacklist, int limit,
            boolean first) {
        // last N: a min-heap of the newest; first N: a max-heap of the oldest
        PriorityQueue<Flow> kept = new PriorityQueue<>(first ? BY_TIME.reversed() : BY_TIME);
        FlowScan.Stats stats = scan.scan(since, lookupUntil(until), whitelist, blacklist, flow -> {
            if (within(flow, since, until)) {
                kept.add(flow);
                if (kept.size() > limit) {
                    kept.poll();
                }
            }
            return true;
        });
        List<Flow> flows = new ArrayList<>(kept);
        flows.sort(BY_TIME);
        return new Result(flows, stats.scanned(), stats.undecodable(), stats.truncated());
    }

    /** Every match (up to limit, 0 for all) to the sink as found: time order within a node. */
    public FlowScan.Stats stream(Instant since, Instant until, List<FlowFilter> whitelist, List<FlowFilter> blacklist,
            long limit, FlowScan.Sink sink) {
        long[] sent = {0};
        return scan.scan(since, lookupUntil(until), whitelist, blacklist, flow -> {
            if (!within(flow, since, until)) {
                return true;
            }
            sent[0]++;
            return sink.accept(flow) && (limit == 0 || sent[0] < limit);
        });
    }

    private static Instant lookupUntil(Instant until) {
        return until == null ? null : until.plus(PUBLISH_DELAY);
    }

    static boolean within(Flow flow, Instant since, Instant until) {
        Instant t = Instant.ofEpochSecond(flow.getTime().getSeconds(), flow.getTime().getNanos());
        return (since == null || !t.isBefore(since)) && (until == null || !t.isAfter(until));
    }
}
