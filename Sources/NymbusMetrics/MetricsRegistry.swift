import Prometheus

/// The metrics one node exports: the ``StatusMetrics`` samples of its status map, kept in a
/// swift-prometheus registry that renders the Prometheus text format.
///
/// Each ``render(_:)`` sets every metric to the status values of that moment (the status map is
/// the single source of truth; nothing is counted twice), then emits the whole registry.
/// Not thread-safe by itself: ``MetricsServer`` calls it from one actor.
public final class MetricsRegistry {
    private let registry = PrometheusCollectorRegistry()
    private var counters: [String: Counter] = [:]
    private var gauges: [String: Gauge] = [:]

    /// Creates an empty registry with `nymbus_build_info{version="…"} 1`.
    public init(version: String) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "nymbus_build_info", unitName: "", helpText: "Always 1; the version is a label."),
            labels: [("version", version)]
        ).set(to: 1.0)
    }

    /// Updates every metric from `status` and returns the Prometheus text exposition.
    public func render(_ status: [(key: String, value: Int64)]) -> String {
        for sample in StatusMetrics.samples(status) {
            let help = "NYMBUS.STATUS \(sample.key)"
            switch sample.kind {
            case .counter:
                guard gauges[sample.name] == nil else { continue }
                let counter =
                    counters[sample.name]
                    ?? registry.makeCounter(
                        descriptor: MetricNameDescriptor(metricName: sample.name, unitName: "", helpText: help))
                counters[sample.name] = counter
                counter.reset()
                if sample.value.rounded() == sample.value, let whole = Int64(exactly: sample.value), whole >= 0 {
                    counter.increment(by: whole)
                } else if sample.value > 0 {
                    counter.increment(by: sample.value)
                }
            case .gauge:
                guard counters[sample.name] == nil else { continue }
                let gauge =
                    gauges[sample.name]
                    ?? registry.makeGauge(
                        descriptor: MetricNameDescriptor(metricName: sample.name, unitName: "", helpText: help))
                gauges[sample.name] = gauge
                gauge.set(to: sample.value)
            }
        }
        return registry.emitToString()
    }
}
