#if canImport(Glibc)
    @preconcurrency import Glibc
#elseif canImport(Darwin)
    @preconcurrency import Darwin
#endif

/// Clocks and memory readings for the benchmarks: monotonic wall time, this process's CPU time
/// (all threads), and its resident set size.
///
/// CPU time is the main measure of work done: on a shared, loaded machine it moves far less
/// than wall time, since time spent waiting for a core is not counted.
public enum Measure {
    /// Monotonic nanoseconds.
    public static func wallNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// CPU nanoseconds used by this process so far, every thread, user and system.
    public static func cpuNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// User and system CPU seconds from `getrusage(RUSAGE_SELF)`.
    public static func rusageCPUSeconds() -> (user: Double, system: Double) {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (seconds(usage.ru_utime), seconds(usage.ru_stime))
    }

    /// Resident set size in bytes (`VmRSS` of /proc/self/status), or 0 where there is none.
    public static func residentBytes() -> Int { statusField("VmRSS:") }

    /// Peak resident set size in bytes (`VmHWM`).
    public static func peakResidentBytes() -> Int { statusField("VmHWM:") }

    /// Hands freed heap pages back to the kernel, so a following `residentBytes()` counts what
    /// is live rather than what malloc kept cached.
    public static func trimHeap() {
        #if canImport(Glibc)
            _ = glibcMallocTrim(0)
        #endif
    }

    #if canImport(Glibc)
        @_silgen_name("malloc_trim")
        private static func glibcMallocTrim(_ pad: Int) -> Int32
    #endif

    private static func statusField(_ name: String) -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix(name) else { continue }
            let digits = text.dropFirst(name.count).filter(\.isNumber)
            return (Int(digits) ?? 0) * 1024  // the kernel reports kB
        }
        return 0
    }
}

/// Process-wide output settings.
public enum Console {
    /// Makes standard output line buffered even into a pipe, so progress shows as it happens.
    public static func lineBuffered() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }

    /// Writes `text` and a newline to standard error.
    public static func error(_ text: String) {
        fputs(text + "\n", stderr)
    }
}

/// Minimal `--name value` parsing shared by the benchmark executables.
public struct Arguments: Sendable {
    private var values: [String: String] = [:]

    /// Parses `--name value` pairs; a lone `--flag` gets the value "true".
    public init(_ arguments: [String] = CommandLine.arguments) {
        var i = 1
        while i < arguments.count {
            let name = arguments[i]
            if i + 1 < arguments.count, !arguments[i + 1].hasPrefix("--") {
                values[name] = arguments[i + 1]
                i += 2
            } else {
                values[name] = "true"
                i += 1
            }
        }
    }

    /// The integer after `name`, or `fallback`.
    public func int(_ name: String, _ fallback: Int) -> Int { values[name].flatMap { Int($0) } ?? fallback }

    /// The number after `name`, or `fallback`.
    public func double(_ name: String, _ fallback: Double) -> Double { values[name].flatMap { Double($0) } ?? fallback }

    /// The string after `name`, if given.
    public func string(_ name: String) -> String? { values[name] }

    /// Whether `name` was given.
    public func flag(_ name: String) -> Bool { values[name] != nil }
}
