/// Small order statistics over samples.
public enum Sample {
    /// The p-th percentile (0...1) by nearest rank; nil for no samples.
    public static func percentile<T: Comparable>(_ values: [T], _ p: Double) -> T? {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The median (upper median for an even count); nil for no samples.
    public static func median<T: Comparable>(_ values: [T]) -> T? { percentile(values, 0.5) }
}

/// Number formatting for the tables: thousands separated by a thin space, fixed decimals.
public enum Format {
    /// `12 345` (no decimals) or `12.3` (with), by magnitude.
    public static func number(_ value: Double, decimals: Int? = nil) -> String {
        guard value.isFinite else { return "n/a" }
        let places = decimals ?? (abs(value) >= 100 ? 0 : abs(value) >= 10 ? 1 : 2)
        let scale = pow10(places)
        let rounded = (value * scale).rounded() / scale
        let negative = rounded < 0
        let magnitude = abs(rounded)
        let whole = UInt64(magnitude.rounded(.down))
        var digits = String(whole)
        var grouped = ""
        while digits.count > 3 {
            grouped = " " + digits.suffix(3) + grouped
            digits = String(digits.dropLast(3))
        }
        grouped = digits + grouped
        if places > 0 {
            let fraction = UInt64(((magnitude - Double(whole)) * scale).rounded())
            var text = String(fraction)
            while text.count < places { text = "0" + text }
            grouped += "." + text
        }
        return (negative ? "-" : "") + grouped
    }

    /// Bytes as `1.23 MiB`, `456 KiB` or `78 B`.
    public static func bytes(_ value: Double) -> String {
        let magnitude = abs(value)
        let mebi = 1_048_576.0
        let kibi = 1024.0
        if magnitude >= mebi { return number(value / mebi, decimals: 2) + " MiB" }
        if magnitude >= kibi { return number(value / kibi, decimals: 1) + " KiB" }
        return number(value, decimals: 0) + " B"
    }

    /// `text` padded with spaces to `width` characters (left aligned), or as is if longer.
    public static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Milliseconds from nanoseconds.
    public static func millis(_ nanos: Double) -> String { number(nanos / 1e6, decimals: nanos < 1e7 ? 2 : 1) + " ms" }

    /// Microseconds from nanoseconds.
    public static func micros(_ nanos: Double) -> String { number(nanos / 1e3, decimals: 0) + " µs" }

    private static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { acc, _ in acc * 10 } }
}
