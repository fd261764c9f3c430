package io.nimbus.node;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.List;

/**
 * Latency histograms, so that Prometheus can compute a p99 ({@code histogram_quantile}) over any window and
 * across nodes: the HTTP server's requests, each Paxos phase, each group commit and each call to a peer get
 * {@code _bucket} series. Buckets span {@link #MIN} to {@link #MAX} (Micrometer's fixed ladder, about 60 of them
 * per series); the summary's own client-side percentiles are left off, since they cannot be aggregated.
 */
@Singleton
public class LatencyHistograms {
    /** Meter names (and name prefixes) that get buckets. */
    static final List<String> NAMES = List.of("http.server.requests", "nimbus.paxos.phase.duration",
            "nimbus.store.group.commit.duration", "nimbus.peer.call");
    static final Duration MIN = Duration.ofNanos(50_000);
    static final Duration MAX = Duration.ofSeconds(30);

    @Produces
    @Singleton
    MeterFilter latencyBuckets() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (id.getType() != Meter.Type.TIMER || NAMES.stream().noneMatch(id.getName()::startsWith)) {
                    return config;
                }
                return DistributionStatisticConfig.builder().percentilesHistogram(true)
                        .minimumExpectedValue((double) MIN.toNanos()).maximumExpectedValue((double) MAX.toNanos())
                        .build().merge(config);
            }
        };
    }
}
