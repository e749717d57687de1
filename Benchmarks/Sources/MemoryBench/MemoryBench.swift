import BenchSupport
import Foundation
import Logging
import NymClient
import NymbusCrypto
import NymbusDaemon
import NymbusNode
import NymbusPubSub
import NymbusWire

enum MemoryBench {
    /// RSS after handing freed pages back, so it counts what is live.
    static func rss() -> Int {
        Measure.trimHeap()
        return Measure.residentBytes()
    }

    nonisolated static func main(_ arguments: Arguments) async {
        let peers = arguments.int("--peers", 64)
        let capacity = arguments.int("--capacity", PubSubConfiguration().seenCapacity)
        print("MemoryBench: one node with \(peers) peers (in a child process) and a full seen cache of \(capacity) ids")
        do {
            var rows: [ResultRow] = []
            rows += standaloneSeenCache(capacity: capacity)
            rows += try await node(peers: peers, capacity: capacity)
            print("")
            for row in rows { row.emit() }
        } catch {
            Console.error("MemoryBench: \(error)")
            exit(1)
        }
    }

    /// A `SeenCache` alone, filled with random ids: its own estimate and the RSS it really adds.
    static func standaloneSeenCache(capacity: Int) -> [ResultRow] {
        let before = rss()
        var cache = SeenCache(capacity: capacity, window: 20 * 60)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<capacity {
            var bytes = [UInt8](repeating: 0, count: 32)
            for i in 0..<32 { bytes[i] = UInt8.random(in: 0...255, using: &random) }
            _ = cache.insert(MessageID(bytes: bytes)!, now: 1_000_000)
        }
        let after = rss()
        let count = cache.count
        let estimate = Double(cache.approximateBytes) / Double(count)
        let measured = Double(after - before) / Double(count)
        print(
            "  seen cache alone: \(count) ids, approximateBytes \(Format.bytes(Double(cache.approximateBytes)))"
                + " = \(Format.number(estimate, decimals: 1)) B/id; RSS grew \(Format.bytes(Double(after - before)))"
                + " = \(Format.number(measured, decimals: 1)) B/id (includes heap left over from growing the table and"
                + " ring; the in-node figure below is the one to use)")
        return [
            ResultRow(
                benchmark: "seen cache bytes/entry (approximateBytes, full)", figure: Format.number(estimate, decimals: 1) + " B",
                baseline: "83 B spec §8 design", ratio: 83 / estimate, goal: "≤ 83 B", met: estimate <= 83.5),
        ]
    }

    /// One whole daemon on endpoint 0 of the child's mixnet, 64 inbound links, then its seen
    /// cache filled through the receive path with valid objects.
    static func node(peers: Int, capacity: Int) async throws -> [ResultRow] {
        let baseline = rss()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: try executablePath())
        child.arguments = ["--peers-process", "\(peers)"]
        let input = Pipe()
        let output = Pipe()
        child.standardInput = input
        child.standardOutput = output
        try child.run()
        defer {
            try? input.fileHandleForWriting.close()
            child.waitUntilExit()
        }
        let ready = readLine(output.fileHandleForReading)
        guard ready.hasPrefix("ready ") else { throw Failure("peers process said '\(ready)'") }
        let url = String(ready.dropFirst(6))

        let directory = NSTemporaryDirectory() + "nbm-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var node = NodeConfiguration(mode: .visible)
        node.outboundTarget = 0  // exactly the 64 inbound links, no outbound dials
        node.inboundMax = max(peers, node.inboundMax)
        var pubsub = PubSubConfiguration()
        pubsub.seenCapacity = capacity
        let quiet = Logger(label: "memorybench") { _ in SwiftLogNoOpLogHandler() }
        let daemon = try NymbusDaemon(
            configuration: DaemonConfiguration(
                nymClient: try NymClientConfiguration(url: url), node: node, pubsub: pubsub,
                socketPath: directory + "/nymbus.sock", dataDirectory: directory),
            logger: quiet)
        try await daemon.start()
        try await Task.sleep(for: .milliseconds(500))
        let alone = rss()

        try input.fileHandleForWriting.write(contentsOf: Data("dial\n".utf8))
        let deadline = ContinuousClock.now + .seconds(120)
        while await daemon.node.peers().count < peers, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let linked = await daemon.node.peers()
        guard linked.count == peers else { throw Failure("only \(linked.count) of \(peers) peers linked") }
        try await Task.sleep(for: .seconds(1))  // handshakes and address exchange settle
        let withPeers = rss()
        print(
            "  daemon alone \(Format.bytes(Double(alone - baseline))) above the empty process (\(Format.bytes(Double(baseline))));"
                + " with \(peers) peers +\(Format.bytes(Double(withPeers - alone))) = \(Format.bytes(Double(withPeers - alone) / Double(peers))) per peer")

        // Fill the seen cache with valid objects on a topic this node does not subscribe to,
        // through the whole receive path. Every link is pruned first (a settled tree in which
        // this node is a leaf), so the objects are accepted and cached but pushed to at most one
        // link (a node cut off from its tree grafts one back at its next heartbeat).
        for peer in linked { await daemon.pubsub.handle(.prune(.all), from: peer.id) }
        let topic = Topic.named("memory-bench")
        let from = linked[0].id
        let payload = [UInt8](repeating: 7, count: 64)
        let fillStart = Measure.wallNanos()
        var usage = await daemon.pubsub.seenCacheUsage
        while usage.count < capacity {
            let minute = UInt32(Int(Date().timeIntervalSince1970) / 60)
            for _ in 0..<min(1000, capacity - usage.count) {
                let object = try TopicObject.seal(
                    payload: payload, objectType: ObjectType.rawBytes, topic: topic, timestamp: minute, author: nil)
                await daemon.pubsub.handleIncoming(object: object.bytes, from: from)
            }
            usage = await daemon.pubsub.seenCacheUsage
        }
        let stats = await daemon.pubsub.statistics
        guard stats.accepted == capacity, stats.transmissions == 0 else {
            throw Failure("accepted \(stats.accepted), expected \(capacity)")
        }
        let full = rss()
        let messageCache = await daemon.pubsub.messageCacheUsage
        print("  repair's message cache after the fill: \(messageCache.count) objects, \(Format.bytes(Double(messageCache.bytes)))")
        let stillLinked = await daemon.node.peers().count
        let perEntry = Double(full - withPeers) / Double(usage.count)
        print(
            "  seen cache filled through handleIncoming in \(Format.number(Double(Measure.wallNanos() - fillStart) / 1e9, decimals: 1)) s:"
                + " \(usage.count) ids, approximateBytes \(Format.bytes(Double(usage.bytes))); RSS +\(Format.bytes(Double(full - withPeers)))"
                + " = \(Format.number(perEntry, decimals: 1)) B/id")
        print(
            "  node with \(stillLinked) peers and a full seen cache: process RSS \(Format.bytes(Double(full))),"
                + " \(Format.bytes(Double(full - baseline))) above the empty process")
        await daemon.stop()
        return [
            ResultRow(
                benchmark: "memory: node, \(peers) peers, full seen cache", figure: Format.bytes(Double(full)) + " RSS",
                baseline: "\(Format.bytes(Double(baseline))) empty process (node adds \(Format.bytes(Double(full - baseline))))",
                ratio: nil),
            ResultRow(
                benchmark: "memory: per peer link", figure: Format.bytes(Double(withPeers - alone) / Double(peers)),
                baseline: "\(Format.bytes(Double(alone - baseline))) node with 0 peers", ratio: nil),
            ResultRow(
                benchmark: "seen cache RSS/entry (in the node, via handleIncoming)", figure: Format.number(perEntry, decimals: 1) + " B",
                baseline: "\(Format.number(Double(usage.bytes) / Double(usage.count), decimals: 1)) B approximateBytes",
                ratio: (Double(usage.bytes) / Double(usage.count)) / perEntry, goal: "≈ 83 B (±5 %)",
                met: perEntry <= 83 * 1.05),
        ]
    }

    static func executablePath() throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw Failure("cannot find this executable") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// One line from a pipe (blocking).
    static func readLine(_ handle: FileHandle) -> String {
        var bytes: [UInt8] = []
        while true {
            guard let chunk = try? handle.read(upToCount: 1), let byte = chunk.first else { break }
            if byte == 10 { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
