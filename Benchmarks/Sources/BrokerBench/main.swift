// BrokerBench: pub/sub fan-out through a RESP server on a Unix socket, for Nymbus's broker and
// for redis-server in the same run, so the ratio means something on a noisy machine.
//
//   BrokerBench --server nymbus=/path/a.sock --server redis=/path/b.sock [--messages N] [--size B] [--subscribers 1,10,50]
//
// The LAST server is the baseline. Each PUBLISH carries its send time, so subscribers measure
// publish-to-receive latency. Besides its own table it prints `@row` lines for `make bench`.
import BenchSupport
import Foundation

func nowNanos() -> UInt64 { Measure.wallNanos() }

struct Options {
    var servers: [(name: String, path: String)] = []
    var messages = 20_000
    var size = 256
    var subscriberCounts = [1, 10, 50]
    var window = 128
    /// Each server runs this many times per subscriber count, alternating with the others; the
    /// run with the median delivery rate is reported, so one disturbed run does not decide.
    var rounds = 3

    init(_ arguments: [String]) throws {
        var i = 1
        func value() throws -> String {
            i += 1
            guard i < arguments.count else { throw BenchError("missing value for \(arguments[i - 1])") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--server":
                let spec = try value().split(separator: "=", maxSplits: 1).map(String.init)
                guard spec.count == 2 else { throw BenchError("--server takes name=/socket/path") }
                servers.append((spec[0], spec[1]))
            case "--messages": messages = Int(try value()) ?? messages
            case "--size": size = max(16, Int(try value()) ?? size)
            case "--subscribers": subscriberCounts = try value().split(separator: ",").compactMap { Int($0) }
            case "--window": window = Int(try value()) ?? window
            case "--rounds": rounds = max(1, Int(try value()) ?? rounds)
            default: throw BenchError("unknown option \(arguments[i])")
            }
            i += 1
        }
        guard !servers.isEmpty else { throw BenchError("give at least one --server name=/socket/path") }
    }
}

/// One subscriber connection on its own thread: counts messages and records latencies.
final class Subscriber: @unchecked Sendable {
    private let socket: UnixSocket
    private let lock = NSLock()
    private var received = 0
    private var latencies: [UInt64] = []
    private let expected: Int
    let done = DispatchSemaphore(value: 0)

    init(path: String, channel: String, expected: Int) throws {
        socket = try UnixSocket(path: path)
        self.expected = expected
        latencies.reserveCapacity(expected)
        try socket.write(respCommand([Array("SUBSCRIBE".utf8), Array(channel.utf8)]))
        var scanner = RESPScanner()
        var confirmed = false
        socket.setReceiveTimeout(seconds: 10)
        while !confirmed {
            let bytes = socket.read()
            guard !bytes.isEmpty else { throw BenchError("subscriber got no confirmation") }
            scanner.feed(bytes) { if case .array = $0 { confirmed = true } }
        }
        socket.setReceiveTimeout(seconds: 30)
    }

    func start() {
        let thread = Thread { [self] in
            var scanner = RESPScanner()
            var count = 0
            var samples: [UInt64] = []
            samples.reserveCapacity(expected)
            while count < expected {
                let bytes = socket.read()
                if bytes.isEmpty { break }
                let now = nowNanos()
                scanner.feed(bytes) { item in
                    guard case .array(let parts) = item, parts.count == 3 else { return }
                    count += 1
                    if let sent = UInt64(String(decoding: parts[2].prefix(16), as: UTF8.self), radix: 16) {
                        samples.append(now &- sent)
                    }
                }
            }
            lock.lock()
            received = count
            latencies = samples
            lock.unlock()
            done.signal()
        }
        thread.start()
    }

    var result: (received: Int, latencies: [UInt64]) {
        lock.lock()
        defer { lock.unlock() }
        return (received, latencies)
    }
}

struct Row {
    var server: String
    var subscribers: Int
    var publishPerSecond: Double
    var deliveredPerSecond: Double
    var deliveredRatio: Double
    var p50Micros: Double
    var p99Micros: Double
}

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
}

func run(server: (name: String, path: String), subscribers count: Int, options: Options) throws -> Row {
    let channel = "bench-\(count)-\(UInt32.random(in: 0...UInt32.max))"
    let subscribers = try (0..<count).map { _ in try Subscriber(path: server.path, channel: channel, expected: options.messages) }
    subscribers.forEach { $0.start() }
    let publisher = try UnixSocket(path: server.path)
    publisher.setReceiveTimeout(seconds: 30)
    var scanner = RESPScanner()
    var replies = 0
    var errors = 0
    var sent = 0
    let padding = [UInt8](repeating: UInt8(ascii: "x"), count: options.size - 16)
    let start = nowNanos()
    while replies < options.messages {
        var batch: [UInt8] = []
        while sent < options.messages && sent - replies < options.window {
            let stamp = String(nowNanos(), radix: 16)
            let payload = Array((String(repeating: "0", count: 16 - stamp.count) + stamp).utf8) + padding
            batch += respCommand([Array("PUBLISH".utf8), Array(channel.utf8), payload])
            sent += 1
        }
        if !batch.isEmpty { try publisher.write(batch) }
        let bytes = publisher.read()
        guard !bytes.isEmpty else { throw BenchError("\(server.name): publisher connection closed after \(replies) replies") }
        scanner.feed(bytes) { item in
            replies += 1
            if case .error(let message) = item {
                errors += 1
                if errors == 1 { FileHandle.standardError.write(Data("\(server.name): \(message)\n".utf8)) }
            }
        }
    }
    let published = nowNanos()
    for s in subscribers { _ = s.done.wait(timeout: .now() + 30) }
    let finished = nowNanos()
    let results = subscribers.map(\.result)
    let delivered = results.reduce(0) { $0 + $1.received }
    let latencies = results.flatMap(\.latencies).sorted()
    return Row(
        server: server.name, subscribers: count,
        publishPerSecond: Double(options.messages) / (Double(published - start) / 1e9),
        deliveredPerSecond: Double(delivered) / (Double(finished - start) / 1e9),
        deliveredRatio: Double(delivered) / Double(options.messages * count),
        p50Micros: percentile(latencies, 0.50), p99Micros: percentile(latencies, 0.99))
}

do {
    Console.lineBuffered()
    let options = try Options(CommandLine.arguments)
    var rows: [Row] = []
    for count in options.subscriberCounts {
        var runs: [String: [Row]] = [:]
        for _ in 0..<options.rounds {
            for server in options.servers {
                runs[server.name, default: []].append(try run(server: server, subscribers: count, options: options))
            }
        }
        for server in options.servers {
            let sorted = (runs[server.name] ?? []).sorted { $0.deliveredPerSecond < $1.deliveredPerSecond }
            rows.append(sorted[sorted.count / 2])
        }
    }
    let baselineName = options.servers.last!.name
    print("broker fan-out: \(options.messages) PUBLISH of \(options.size) B, window \(options.window), Unix socket, median of \(options.rounds) alternating runs")
    print(["server".padding(toLength: 14, withPad: " ", startingAt: 0), " subs", "   publish/s", "   delivered/s",
           " delivered", "    p50 µs", "    p99 µs", "   ratio"].joined(separator: " "))
    var summary: [ResultRow] = []
    for row in rows {
        let baseline = rows.first { $0.subscribers == row.subscribers && $0.server == baselineName }
        let ratio = baseline.map { row.deliveredPerSecond / $0.deliveredPerSecond } ?? .nan
        print(String(format: "%@ %5d %12.0f %14.0f %8.1f%% %10.0f %10.0f %8.2f", row.server.padding(toLength: 14, withPad: " ", startingAt: 0) as NSString, row.subscribers,
                     row.publishPerSecond, row.deliveredPerSecond, row.deliveredRatio * 100, row.p50Micros,
                     row.p99Micros, ratio))
        guard let baseline, row.server != baselineName else { continue }
        let label = "broker \(row.subscribers) sub\(row.subscribers == 1 ? "" : "s"), \(row.server)"
        let incomplete = row.deliveredRatio < 1 ? " (\(Format.number(row.deliveredRatio * 100, decimals: 1))% delivered)" : ""
        summary.append(.ratio(
            "\(label): fan-out", figure: Format.number(row.deliveredPerSecond, decimals: 0) + " msg/s" + incomplete,
            baseline: Format.number(baseline.deliveredPerSecond, decimals: 0) + " msg/s \(baselineName)",
            ratio: row.deliveredPerSecond / baseline.deliveredPerSecond, atLeast: 0.8))
        summary.append(.ratio(
            "\(label): p50 latency", figure: Format.number(row.p50Micros, decimals: 0) + " µs",
            baseline: Format.number(baseline.p50Micros, decimals: 0) + " µs \(baselineName)",
            ratio: baseline.p50Micros / row.p50Micros, atLeast: 0.8))
        summary.append(.ratio(
            "\(label): p99 latency", figure: Format.number(row.p99Micros, decimals: 0) + " µs",
            baseline: Format.number(baseline.p99Micros, decimals: 0) + " µs \(baselineName)",
            ratio: baseline.p99Micros / row.p99Micros, atLeast: 0.8))
    }
    print("ratio = delivered/s relative to \(baselineName) (the baseline) at the same subscriber count")
    print("")
    for row in summary { row.emit() }
} catch {
    FileHandle.standardError.write(Data("BrokerBench: \(error)\n".utf8))
    exit(1)
}
