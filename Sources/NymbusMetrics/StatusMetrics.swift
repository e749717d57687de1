/// How the numbers of `NYMBUS.STATUS` become Prometheus metrics, by rule rather than by list,
/// so that a key added to the status map is exported without a change here.
///
/// Rules (docs/USAGE.md repeats them):
/// - the name is `nymbus_` + the key with every character outside `[a-z0-9]` turned into `_`;
/// - a key ending in `-ms` is a duration: exported in seconds, named `…_seconds`;
/// - a key is a gauge (a level that goes up and down) when it is one of ``knownGauges`` or has a
///   word of ``gaugeWords`` (queue depths, waiting work, connections, cache sizes); every other
///   key is a counter (only ever grows while the node runs) and its name ends in `_total`.
///
/// Text values (the mode and the address) are not exported: a Nym address is an identity and
/// has no place in a monitoring system.
public enum StatusMetrics {
    /// Whether a metric counts events (Prometheus counter) or reports a level (gauge).
    public enum Kind: String, Sendable, Hashable {
        case counter, gauge
    }

    /// One exported number.
    public struct Sample: Sendable, Hashable {
        /// The metric name, e.g. `nymbus_objects_published_total`.
        public let name: String
        /// Counter or gauge.
        public let kind: Kind
        /// The value in the metric's unit (seconds for `-ms` keys).
        public let value: Double
        /// The `NYMBUS.STATUS` key it comes from, for the metric's help text.
        public let key: String
    }

    /// Status keys that are levels although none of their words says so.
    public static let knownGauges: Set<String> = [
        "peers", "peers-outbound", "peers-inbound", "address-book", "nym-client-connected", "seen-cache-bytes",
        "nym-client-lane-packets", "links-eager", "links-lazy",
    ]

    /// Status keys that are counters although a word of theirs looks like a level.
    public static let knownCounters: Set<String> = ["misbehaving-peers"]

    /// Words (between `-`) that make a key a gauge.
    public static let gaugeWords: Set<String> = [
        "queue", "queued", "waiting", "depth", "length", "pending", "held", "inflight", "buffered",
        "entries", "connected", "size", "open", "current", "now",
    ]

    /// The kind of a status key.
    public static func kind(of key: String) -> Kind {
        let key = key.lowercased()
        if knownCounters.contains(key) { return .counter }
        if knownGauges.contains(key) { return .gauge }
        let words = key.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
        return words.contains(where: gaugeWords.contains) ? .gauge : .counter
    }

    /// The Prometheus name and the factor from the status value to the metric's unit.
    public static func name(of key: String, kind: Kind) -> (name: String, scale: Double) {
        var base = String(
            key.lowercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
        var scale = 1.0
        if base.hasSuffix("_ms") {
            base = String(base.dropLast(3)) + "_seconds"
            scale = 0.001
        }
        while base.contains("__") { base = base.replacingOccurrences(of: "__", with: "_") }
        base = "nymbus_" + base.trimmingUnderscores
        if kind == .counter, !base.hasSuffix("_total") { base += "_total" }
        return (base, scale)
    }

    /// The samples for the integer entries of a status map, in the map's order; keys that map to
    /// the same name keep the first.
    public static func samples(_ status: [(key: String, value: Int64)]) -> [Sample] {
        var seen: Set<String> = []
        var out: [Sample] = []
        for (key, value) in status {
            let kind = kind(of: key)
            let (name, scale) = name(of: key, kind: kind)
            guard seen.insert(name).inserted else { continue }
            out.append(Sample(name: name, kind: kind, value: Double(value) * scale, key: key))
        }
        return out
    }
}

extension String {
    fileprivate var trimmingUnderscores: String {
        var text = Substring(self)
        while text.first == "_" { text = text.dropFirst() }
        while text.last == "_" { text = text.dropLast() }
        return String(text)
    }

    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
