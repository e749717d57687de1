#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// When to tell the user that nym-client cannot be reached, and in what words.
///
/// The first failed attempt is reported at once (a warning naming the URL), then again after
/// 10 s, 20 s, 40 s... of trying (doubling, at most every 10 minutes): the user learns quickly
/// what is wrong, and a long outage does not fill the log. A pure value; the caller passes the
/// seconds since the first failure.
public struct UnreachableReport: Sendable, Equatable {
    /// The first interval between two reports, in seconds.
    public let first: Double
    /// The longest interval between two reports, in seconds.
    public let maximum: Double
    private var nextAt: Double?
    private var interval: Double

    public init(first: Double = 10, maximum: Double = 600) {
        self.first = first
        self.maximum = maximum
        self.interval = first
    }

    /// Whether a failed attempt `elapsed` seconds after the first failure should be reported.
    public mutating func shouldReport(elapsed: Double) -> Bool {
        guard let due = nextAt else {
            nextAt = first
            return true
        }
        guard elapsed >= due else { return false }
        interval = min(maximum, interval * 2)
        nextAt = elapsed + interval
        return true
    }

    /// A connection was made: the next failure is reported at once again.
    public mutating func reset() {
        nextAt = nil
        interval = first
    }

    /// The report, as a sentence: where, for how long, what went wrong, what to check.
    /// `endpoint` names where nym-client should listen without an IP address (no log line holds
    /// one): its port, and its path when that is not `/`.
    public static func message(port: Int, path: String, elapsed: Double, attempts: Int, error: String) -> String {
        let tried = elapsed < 1 ? "" : " for \(duration(elapsed)) (\(attempts) attempts)"
        let at = path == "/" || path.isEmpty ? "port \(port)" : "port \(port), path \(path)"
        return "Cannot reach nym-client on \(at)\(tried): \(plain(error)). "
            + "Is nym-client running and listening there (--nym-client)? Still trying."
    }

    /// `12 s`, `3 min 5 s`, `2 h 1 min`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return s % 60 == 0 ? "\(s / 60) min" : "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }

    /// A system error as words: `… (errno: 111)` becomes `connection refused`.
    static func plain(_ error: String) -> String {
        let marker = Array("errno: ".utf8)
        let bytes = Array(error.utf8)
        guard bytes.count > marker.count,
            let start = (0...(bytes.count - marker.count)).first(where: { Array(bytes[$0..<$0 + marker.count]) == marker }),
            let code = Int32(String(decoding: bytes[(start + marker.count)...].prefix { $0 >= 48 && $0 <= 57 }, as: UTF8.self))
        else { return error }
        return String(cString: strerror(code)).lowercased()
    }
}
