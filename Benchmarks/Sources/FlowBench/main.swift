// FlowBench: what a node sustains on a local mixnet paced as nym-client (one packet per 20 ms
// on average per node, 15 ms per hop), with plain Redis-protocol publishers and subscribers.
//
//   FlowBench [--nodes 3,20] [--overload 60] [--steady 20] [--size 1024] [--seed 7]
//
// For each devnet size: one publisher on node 0 pipelines 1 KiB PUBLISH as fast as node 0
// accepts them (the broker slows it when the links are full) for --overload seconds, while every
// other node has a subscriber; then it publishes at half the rate every subscriber sustained for
// --steady seconds and the latency to the last subscriber is measured. Rows: the sustained rate
// against the limit one nym-client's pace allows (50 packets/s × 1604 bytes), the p50/p99
// latency at half that rate, the peak memory during the overload, and the loss counters (which
// must stay 0).
import BenchSupport
import Foundation
import Logging
import NymbusBroker
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import Synchronization

Console.lineBuffered()
let arguments = Arguments()
let sizes = (arguments.string("--nodes") ?? "3,20").split(separator: ",").compactMap { Int($0) }
let overload = arguments.double("--overload", 60)
let steady = arguments.double("--steady", 20)
let size = arguments.int("--size", 1024)
let seed = UInt64(arguments.int("--seed", 7))

/// One nym-client's real-data ceiling: 50 packets/s of 1604 bytes (NYM-CLIENT.md §6–7).
let clientLimitBytesPerSecond = 50.0 * 1604

final class Arrivals: Sendable {
    struct State {
        var counts: [Int]
        /// Per message: when the last subscriber got it, and how many have.
        var last: [UInt64: (at: UInt64, count: Int)] = [:]
        var duplicates = 0
    }
    let state: Mutex<State>
    let subscribers: Int

    init(subscribers: Int) {
        self.subscribers = subscribers
        self.state = Mutex(State(counts: Array(repeating: 0, count: subscribers)))
    }

    func record(subscriber: Int, sequence: UInt64, at now: UInt64) {
        state.withLock { state in
            state.counts[subscriber] += 1
            var entry = state.last[sequence] ?? (0, 0)
            entry.at = max(entry.at, now)
            entry.count += 1
            if entry.count > subscribers { state.duplicates += 1 }
            state.last[sequence] = entry
        }
    }

    var minimumCount: Int { state.withLock { $0.counts.min() ?? 0 } }
}

func payload(sequence: UInt64, size: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0x78, count: max(16, size))
    withUnsafeBytes(of: sequence.bigEndian) { for (i, b) in $0.enumerated() { bytes[i] = b } }
    withUnsafeBytes(of: Measure.wallNanos().bigEndian) { for (i, b) in $0.enumerated() { bytes[8 + i] = b } }
    return bytes
}

func readUInt64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
    bytes[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
}

func status(_ socket: String) async throws -> [String: Int64] {
    let connection = try await BrokerConnection.connect(path: socket)
    defer { Task { await connection.close() } }
    guard case .array(let flat?) = try await connection.command("NYMBUS.STATUS") else { return [:] }
    var fields: [String: Int64] = [:]
    for index in stride(from: 0, to: flat.count - 1, by: 2) {
        if case .bulkString(let key?) = flat[index], case .integer(let value) = flat[index + 1] {
            fields[String(decoding: key, as: UTF8.self)] = value
        }
    }
    return fields
}

func run(nodes: Int) async throws {
    print("\n== \(nodes) nodes, paced as nym-client (20 ms per packet, 15 ms per hop), \(size)-byte messages")
    Measure.trimHeap()
    let rssBefore = Measure.residentBytes()
    var template = Array("/tmp/nbf-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw Failure("cannot make a temporary directory") }
    let directory = String(cString: made)
    defer { _ = system("rm -rf '\(directory)'") }
    var configuration = DevnetConfiguration(directory: directory)
    configuration.nodes = nodes
    configuration.mixnet.seed = seed
    configuration.adjustNode = { _, node in node.addressFetchInterval = .seconds(3) }
    let quiet = Logger(label: "flowbench") { _ in SwiftLogNoOpLogHandler() }
    let devnet = try Devnet(configuration: configuration, logger: quiet)
    try await devnet.start()
    defer { Task { await devnet.stop() } }
    guard await devnet.waitUntilLinked(minimumPeers: min(nodes - 1, 2), timeout: .seconds(120)) else {
        throw Failure("the devnet did not link")
    }
    try await Task.sleep(for: .seconds(nodes > 5 ? 10 : 2))  // let late links settle
    let daemons = await devnet.daemons
    let sockets = daemons.map(\.broker.socketPath)
    let channel = Array("flow".utf8)

    // Subscribers on every node but the publisher's.
    let arrivals = Arrivals(subscribers: nodes - 1)
    var readers: [Task<Void, Never>] = []
    var connections: [BrokerConnection] = []
    for (index, socket) in sockets.enumerated().dropFirst() {
        let connection = try await BrokerConnection.connect(path: socket)
        _ = try await connection.command("SUBSCRIBE", "flow")
        connections.append(connection)
        let subscriber = index - 1
        readers.append(
            Task {
                while let message = try? await connection.nextMessage() {
                    arrivals.record(
                        subscriber: subscriber, sequence: readUInt64(message.payload, at: 0), at: Measure.wallNanos())
                }
            })
    }
    for daemon in daemons.dropFirst() {
        for _ in 0..<500 where await daemon.pubsub.subscribedTopics.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
    }
    let publisher = try await BrokerConnection.connect(path: sockets[0])

    // Phase 1: overload. Pipelines of 50; the broker stops reading when the node is full.
    print("overload: publishing as fast as node 0 accepts for \(Int(overload)) s")
    let start = Measure.wallNanos()
    var sequence: UInt64 = 0
    var peak = Measure.peakResidentBytes()
    while Double(Measure.wallNanos() - start) / 1e9 < overload {
        let batch = (0..<50).map { i in [Array("PUBLISH".utf8), channel, payload(sequence: sequence + UInt64(i), size: size)] }
        try await publisher.send(pipelined: batch)
        for _ in 0..<50 {
            guard case .integer = try await publisher.nextValue() else { throw Failure("a PUBLISH was refused") }
        }
        sequence += 50
        peak = max(peak, Measure.peakResidentBytes())
    }
    let accepted = sequence
    let acceptedSeconds = Double(Measure.wallNanos() - start) / 1e9
    // Wait until every subscriber has everything (or nothing more arrives for 60 s).
    var lastProgress = Measure.wallNanos()
    var lastMinimum = -1
    while arrivals.minimumCount < Int(accepted), Double(Measure.wallNanos() - lastProgress) / 1e9 < 60 {
        let now = arrivals.minimumCount
        if now != lastMinimum {
            lastMinimum = now
            lastProgress = Measure.wallNanos()
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    let (deliveredAll, lastArrival, duplicates) = arrivals.state.withLock { state -> (Int, UInt64, Int) in
        let complete = state.last.values.filter { $0.count >= nodes - 1 }
        return (complete.count, complete.map(\.at).max() ?? start, state.duplicates)
    }
    let deliverySeconds = Double(lastArrival - start) / 1e9
    let rate = Double(deliveredAll) / max(deliverySeconds, 1e-9)
    let bytesPerSecond = rate * Double(size)
    print(
        "accepted \(accepted) messages in \(Format.number(acceptedSeconds, decimals: 1)) s; \(deliveredAll) reached all "
            + "\(nodes - 1) subscribers by \(Format.number(deliverySeconds, decimals: 1)) s; duplicates \(duplicates)")
    print(
        "sustained: \(Format.number(rate, decimals: 1)) msg/s = \(Format.number(bytesPerSecond / 1000, decimals: 1)) KB/s "
            + "(one nym-client's limit: \(Format.number(clientLimitBytesPerSecond / 1000, decimals: 1)) KB/s)")
    ResultRow(
        benchmark: "flow \(nodes) nodes: sustained rate to every subscriber (1 KiB msgs)",
        figure: "\(Format.number(rate, decimals: 1)) msg/s, \(Format.number(bytesPerSecond / 1000, decimals: 1)) KB/s",
        baseline: "\(Format.number(clientLimitBytesPerSecond / 1000, decimals: 1)) KB/s one nym-client",
        ratio: bytesPerSecond / clientLimitBytesPerSecond, goal: "all accepted arrive",
        met: deliveredAll == Int(accepted) && duplicates == 0
    ).emit()
    ResultRow(
        benchmark: "flow \(nodes) nodes: peak RSS during \(Int(overload)) s overload",
        figure: Format.bytes(Double(peak)) + " (\(nodes) nodes + mixnet, one process)",
        baseline: Format.bytes(Double(rssBefore)) + " before start", ratio: nil
    ).emit()

    // Phase 2: half the sustained rate, latency to the last subscriber.
    let halfRate = max(1, rate / 2)
    print("steady: \(Format.number(halfRate, decimals: 1)) msg/s for \(Int(steady)) s")
    let steadyFirst = sequence
    let interval = 1e9 / halfRate
    let steadyStart = Measure.wallNanos()
    var sendTimes: [UInt64: UInt64] = [:]
    var sent = 0
    while Double(Measure.wallNanos() - steadyStart) / 1e9 < steady {
        let due = steadyStart + UInt64(Double(sent) * interval)
        let now = Measure.wallNanos()
        if due > now { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
        sendTimes[sequence] = Measure.wallNanos()
        guard case .integer = try await publisher.command([Array("PUBLISH".utf8), channel, payload(sequence: sequence, size: size)])
        else { throw Failure("a PUBLISH was refused") }
        sequence += 1
        sent += 1
    }
    for _ in 0..<600 where arrivals.minimumCount < Int(sequence) { try await Task.sleep(for: .milliseconds(100)) }
    let (latencies, missing) = arrivals.state.withLock { state -> ([Double], Int) in
        var out: [Double] = []
        var missing = 0
        for seq in steadyFirst..<sequence {
            guard let entry = state.last[seq], entry.count >= nodes - 1, let sentAt = sendTimes[seq] else {
                missing += 1
                continue
            }
            out.append(Double(entry.at &- sentAt))
        }
        return (out, missing)
    }
    let p50 = Sample.percentile(latencies, 0.5) ?? 0
    let p99 = Sample.percentile(latencies, 0.99) ?? 0
    print(
        "steady: \(sent) messages, latency to the last of \(nodes - 1) subscribers p50 \(Format.millis(p50)), "
            + "p99 \(Format.millis(p99)); \(missing) did not reach every subscriber")
    ResultRow(
        benchmark: "flow \(nodes) nodes: latency to last subscriber at half that rate",
        figure: "p50 \(Format.millis(p50)), p99 \(Format.millis(p99))",
        baseline: "\(Format.number(halfRate, decimals: 1)) msg/s for \(Int(steady)) s", ratio: nil,
        goal: "all arrive", met: missing == 0
    ).emit()
    for connection in connections { await connection.close() }
    await publisher.close()
    for reader in readers { reader.cancel() }
    var lossTotal: Int64 = 0
    for socket in sockets {
        let fields = try await status(socket)
        for name in [
            "broker-publishes-lost", "subscription-overflow", "nym-client-inbound-dropped", "nym-client-sends-refused",
            "misbehaving-peers",
        ] { lossTotal += fields[name] ?? 0 }
    }
    print("loss and misbehaviour counters over all nodes: \(lossTotal)")
    ResultRow(
        benchmark: "flow \(nodes) nodes: loss + misbehaviour counters, all nodes", figure: "\(lossTotal)",
        baseline: "—", ratio: nil, goal: "0", met: lossTotal == 0
    ).emit()
    await devnet.stop()
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}


for nodes in sizes {
    do { try await run(nodes: nodes) } catch {
        Console.error("FlowBench \(nodes) nodes: \(error)")
        exit(1)
    }
}
