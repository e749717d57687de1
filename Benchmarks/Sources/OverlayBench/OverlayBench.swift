import BenchSupport
import Logging
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusWire

#if canImport(Glibc)
    import Glibc
#endif

enum OverlayBench {
    struct Result {
        var hopDelayMs: Double
        var nodes: Int
        var hidden: Int
        var links: Int
        var degrees: (min: Int, median: Int, max: Int)
        var objects: Int
        var remoteDeliveries: Int
        var transmissions: Int
        var objectMessagesOut: Int
        /// Repair traffic over the run: inv and getdata messages sent, objects served for getdata.
        var repairMessages: (inv: Int, getdata: Int, served: Int)
        var lastSubscriberNanos: [UInt64]
        var deliveryNanos: [UInt64]
        var cpuNanos: UInt64
        /// Process CPU nanoseconds per wall second while the network idles (keepalives, timers).
        var idleCPUPerSecond: Double
        var wallNanos: UInt64
        var rssBefore: Int
        var rssAfter: Int
        var setupSeconds: Double
        var expected: Int { objects * (nodes - 1) }
        /// CPU nanoseconds per node per object, with the idle rate over the same time taken out.
        var netCPUPerNodeObject: Double {
            max(0, Double(cpuNanos) - idleCPUPerSecond * Double(wallNanos) / 1e9) / Double(nodes * objects)
        }
        var deliveryRatio: Double { Double(remoteDeliveries) / Double(expected) }
        var idealTransmissions: Int { 2 * links - (nodes - 1) }
    }

    nonisolated static func main(_ arguments: Arguments) async {
        let nodes = arguments.int("--nodes", 50)
        let hidden = arguments.int("--hidden", 5)
        let objects = arguments.int("--objects", 50)
        let seed = UInt64(arguments.int("--seed", 7))
        let interval = arguments.int("--interval-ms", 250)
        let delays = (arguments.string("--delays") ?? "0,15").split(separator: ",").compactMap { Double($0) }
        print(
            "OverlayBench: \(nodes) nodes (\(hidden) hidden) in one process over the local mixnet, \(objects) objects"
                + " of 256 B from random nodes, one every \(interval) ms; every node subscribes")
        var results: [Result] = []
        for delay in delays {
            do {
                let result = try await run(
                    hopDelayMs: delay, nodes: nodes, hidden: hidden, objects: objects, interval: interval, seed: seed)
                describe(result)
                results.append(result)
            } catch {
                Console.error("OverlayBench (\(delay) ms): \(error)")
                exit(1)
            }
        }
        print("")
        for row in rows(results) { row.emit() }
    }

    static func run(
        hopDelayMs: Double, nodes: Int, hidden: Int, objects: Int, interval: Int, seed: UInt64
    ) async throws -> Result {
        Measure.trimHeap()
        let rssBefore = Measure.residentBytes()
        let setupStart = Measure.wallNanos()
        var template = Array("/tmp/nbo-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure("cannot make a temporary directory") }
        let directory = String(cString: made)
        var configuration = DevnetConfiguration(directory: directory)
        configuration.nodes = nodes
        configuration.hidden = hidden
        configuration.mixnet.hopDelay = .microseconds(Int64(hopDelayMs * 1000))
        configuration.mixnet.seed = seed
        configuration.mixnet.sendDelay = .zero  // flood copies and latency without the send budget (FlowBench has it)
        // Every node's first dial goes to the seed (node 0), whose 64 inbound slots fill up; a
        // node refused there asks for addresses again only after `addressFetchInterval` (60 s).
        // Shortened, as the tests do, so the benchmark does not wait a minute for late joiners.
        configuration.adjustNode = { _, node in node.addressFetchInterval = .seconds(3) }
        let verbose = getenv("OVERLAY_LOG") != nil
        var quiet = Logger(label: "overlaybench") { label -> any LogHandler in
            verbose ? StreamLogHandler.standardError(label: label) : SwiftLogNoOpLogHandler()
        }
        quiet.logLevel = verbose ? .debug : .critical
        let devnet = try Devnet(configuration: configuration, logger: quiet)
        try await devnet.start()
        defer { _ = system("rm -rf '\(directory)'") }
        let daemons = await devnet.daemons
        guard await devnet.waitUntilLinked(minimumPeers: 1, timeout: .seconds(60)) else {
            var detail: [String] = []
            for (i, d) in daemons.enumerated() {
                let s = await d.node.statistics
                detail.append("\(i):\(await d.node.peers().count)p/\(s.handshakesCompleted)ok/\(s.handshakesFailed)fail/\(s.bytesIn)in")
            }
            await devnet.stop()
            throw Failure("not every node found a peer within 60 s: \(detail.joined(separator: " "))")
        }
        // Let discovery settle: stop once the link count has not grown for 3 s (at most 45 s).
        var links = 0
        var stableSince = Measure.wallNanos()
        let settleDeadline = Measure.wallNanos() + 45_000_000_000
        while Measure.wallNanos() < settleDeadline {
            let now = await linkCount(daemons)
            if now != links {
                links = now
                stableSince = Measure.wallNanos()
            } else if Measure.wallNanos() - stableSince > 3_000_000_000 {
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        let setupSeconds = Double(Measure.wallNanos() - setupStart) / 1e9
        print("  \(hopDelayMs) ms: devnet up and settled in \(Format.number(setupSeconds, decimals: 1)) s, \(links) links")
        return try await measure(
            devnet: devnet, daemons: daemons, hopDelayMs: hopDelayMs, hidden: hidden, objects: objects,
            interval: interval, seed: seed,
            rssBefore: rssBefore, setupSeconds: setupSeconds)
    }

    static func linkCount(_ daemons: [NymbusDaemon]) async -> Int {
        var ends = 0
        for d in daemons { ends += await d.node.peers().count }
        return ends / 2
    }

    static func measure(
        devnet: Devnet, daemons: [NymbusDaemon], hopDelayMs: Double, hidden: Int, objects: Int, interval: Int,
        seed: UInt64,
        rssBefore: Int, setupSeconds: Double
    ) async throws -> Result {
        let nodes = daemons.count
        var degrees: [Int] = []
        for d in daemons { degrees.append(await d.node.peers().count) }
        let links = degrees.reduce(0, +) / 2
        let topic = Topic.named("overlay-bench")
        let collector = Collector()
        var pumps: [Task<Void, Never>] = []
        for (index, daemon) in daemons.enumerated() {
            let subscription = await daemon.pubsub.subscribe(topic)
            pumps.append(
                Task {
                    for await delivery in subscription {
                        collector.record(node: index, id: delivery.messageID, at: Measure.wallNanos(), isOwn: delivery.isOwn)
                    }
                })
        }
        let before = await Traffic.total(of: daemons)

        // What the network costs doing nothing (timers, keepalives), to take out of the figure.
        let idleCPU = Measure.cpuNanos()
        let idleWall = Measure.wallNanos()
        try await Task.sleep(for: .seconds(2))
        let idleCPUPerSecond = Double(Measure.cpuNanos() - idleCPU) / (Double(Measure.wallNanos() - idleWall) / 1e9)

        var rng = SplitMix64(state: seed)
        var sentAt: [MessageID: UInt64] = [:]
        let payload = [UInt8](repeating: 0x5a, count: 256)
        let cpuStart = Measure.cpuNanos()
        let wallStart = Measure.wallNanos()
        for _ in 0..<objects {
            let from = Int.random(in: 0..<nodes, using: &rng)
            let start = Measure.wallNanos()
            let result = try await daemons[from].pubsub.publish(payload, to: topic)
            sentAt[result.messageID] = start
            try await Task.sleep(for: .milliseconds(interval))
        }
        let expected = objects * (nodes - 1)
        let waitDeadline = Measure.wallNanos() + 30_000_000_000
        while collector.count < expected, Measure.wallNanos() < waitDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let cpuNanos = Measure.cpuNanos() - cpuStart
        let wallNanos = Measure.wallNanos() - wallStart
        try await Task.sleep(for: .milliseconds(300))  // late duplicates would show in the counts
        let traffic = await Traffic.total(of: daemons).minus(before)
        Measure.trimHeap()
        let rssAfter = Measure.residentBytes()
        let arrivals = collector.all
        var last: [MessageID: UInt64] = [:]
        var perDelivery: [UInt64] = []
        for a in arrivals {
            guard let sent = sentAt[a.id] else { continue }
            perDelivery.append(a.atNanos - sent)
            last[a.id] = max(last[a.id] ?? 0, a.atNanos - sent)
        }
        for p in pumps { p.cancel() }
        await devnet.stop()
        return Result(
            hopDelayMs: hopDelayMs, nodes: nodes, hidden: hidden, links: links,
            degrees: (degrees.min() ?? 0, Sample.median(degrees) ?? 0, degrees.max() ?? 0), objects: objects,
            remoteDeliveries: arrivals.count, transmissions: traffic.transmissions,
            objectMessagesOut: traffic.objectsOut, repairMessages: (traffic.inv, traffic.getdata, traffic.served),
            lastSubscriberNanos: Array(last.values),
            deliveryNanos: perDelivery, cpuNanos: cpuNanos, idleCPUPerSecond: idleCPUPerSecond, wallNanos: wallNanos, rssBefore: rssBefore,
            rssAfter: rssAfter, setupSeconds: setupSeconds)
    }

    static func describe(_ r: Result) {
        func ms(_ v: UInt64?) -> String { v.map { Format.millis(Double($0)) } ?? "n/a" }
        print(
            "  \(r.hopDelayMs) ms per hop: \(r.links) links (degree min \(r.degrees.min), median \(r.degrees.median), max \(r.degrees.max));"
                + " delivered \(r.remoteDeliveries) of \(r.expected) (\(Format.number(r.deliveryRatio * 100, decimals: 2)) %)")
        print(
            "    transmissions \(r.transmissions) (node object messages out \(r.objectMessagesOut)) = \(Format.number(Double(r.transmissions) / Double(r.objects), decimals: 1)) per object,"
                + " \(Format.number(Double(r.transmissions) / Double(max(1, r.remoteDeliveries)), decimals: 2)) per delivery; ideal flood 2E−(N−1) = \(r.idealTransmissions) per object")
        let repairTotal = r.repairMessages.inv + r.repairMessages.getdata + r.repairMessages.served
        print(
            "    repair: \(r.repairMessages.inv) inv, \(r.repairMessages.getdata) getdata, \(r.repairMessages.served) objects served"
                + " = \(Format.number(Double(repairTotal) / Double(r.objects), decimals: 1)) messages per object"
                + " (\(Format.number(Double(repairTotal) / Double(max(1, r.transmissions)) * 100, decimals: 1)) % of the flood's)")
        print(
            "    latency publish→last subscriber p50 \(ms(Sample.percentile(r.lastSubscriberNanos, 0.5))) p99 \(ms(Sample.percentile(r.lastSubscriberNanos, 0.99)))"
                + " (complete objects \(r.lastSubscriberNanos.count)); per delivery p50 \(ms(Sample.percentile(r.deliveryNanos, 0.5))) p99 \(ms(Sample.percentile(r.deliveryNanos, 0.99)))")
        print(
            "    CPU \(Format.number(Double(r.cpuNanos) / 1e9, decimals: 2)) s over \(Format.number(Double(r.wallNanos) / 1e9, decimals: 1)) s wall"
                + " = \(Format.micros(Double(r.cpuNanos) / Double(r.nodes * r.objects))) per node per object, \(Format.micros(r.netCPUPerNodeObject)) without"
                + " the idle rate (\(Format.number(r.idleCPUPerSecond / 1e7, decimals: 1)) % of a core for the idle network); the mixnet is included")
        print("   "
                + " RSS \(Format.bytes(Double(r.rssAfter))) = \(Format.bytes(Double(r.rssAfter) / Double(r.nodes))) per node"
                + " (\(Format.bytes(Double(r.rssAfter - r.rssBefore) / Double(r.nodes))) above the process before the devnet)")
    }

    static func rows(_ results: [Result]) -> [ResultRow] {
        var rows: [ResultRow] = []
        let zero = results.first { $0.hopDelayMs == 0 }
        for r in results {
            let tag = "overlay \(r.nodes) nodes, \(Format.number(r.hopDelayMs, decimals: 0)) ms/hop"
            rows.append(
                ResultRow(
                    benchmark: "\(tag): delivery ratio", figure: "\(r.remoteDeliveries)/\(r.expected)",
                    baseline: "every node once", ratio: r.deliveryRatio, goal: "1.00", met: r.remoteDeliveries == r.expected))
            let perObject = Double(r.transmissions) / Double(r.objects)
            rows.append(
                ResultRow(
                    benchmark: "\(tag): transmissions/object",
                    figure: "\(Format.number(perObject, decimals: 1)) (\(Format.number(Double(r.transmissions) / Double(max(1, r.remoteDeliveries)), decimals: 2))/delivery)",
                    baseline: "\(r.idealTransmissions) ideal flood, \(r.links) links", ratio: Double(r.idealTransmissions) / perObject,
                    goal: "1.00", met: abs(perObject - Double(r.idealTransmissions)) < 0.5))
            let p50 = Sample.percentile(r.lastSubscriberNanos, 0.5).map { Double($0) } ?? .nan
            let p99 = Sample.percentile(r.lastSubscriberNanos, 0.99).map { Double($0) } ?? .nan
            let base50 = (r.hopDelayMs == 0 ? nil : zero).flatMap { Sample.percentile($0.lastSubscriberNanos, 0.5) }.map { Double($0) }
            let base99 = (r.hopDelayMs == 0 ? nil : zero).flatMap { Sample.percentile($0.lastSubscriberNanos, 0.99) }.map { Double($0) }
            rows.append(
                ResultRow(
                    benchmark: "\(tag): p50 latency to last subscriber", figure: Format.millis(p50),
                    baseline: base50.map { Format.millis($0) + " at 0 ms/hop" } ?? "—", ratio: base50.map { $0 / p50 }))
            rows.append(
                ResultRow(
                    benchmark: "\(tag): p99 latency to last subscriber", figure: Format.millis(p99),
                    baseline: base99.map { Format.millis($0) + " at 0 ms/hop" } ?? "—", ratio: base99.map { $0 / p99 }))
            rows.append(
                ResultRow(
                    benchmark: "\(tag): CPU per node per object",
                    figure: Format.micros(r.netCPUPerNodeObject),
                    baseline: "idle subtracted; incl. mixnet; raw \(Format.micros(Double(r.cpuNanos) / Double(r.nodes * r.objects)))",
                    ratio: nil))
            rows.append(
                ResultRow(
                    benchmark: "\(tag): RSS per node", figure: Format.bytes(Double(r.rssAfter) / Double(r.nodes)),
                    baseline: "\(Format.bytes(Double(r.rssAfter - r.rssBefore) / Double(r.nodes))) above empty process",
                    ratio: nil))
        }
        return rows
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What the whole devnet sent so far: flood copies, object messages, and repair traffic.
struct Traffic {
    var transmissions = 0
    var objectsOut = 0
    var inv = 0
    var getdata = 0
    var served = 0

    static func total(of daemons: [NymbusDaemon]) async -> Traffic {
        var total = Traffic()
        for d in daemons {
            let stats = await d.pubsub.statistics
            total.transmissions += stats.transmissions
            total.inv += stats.invSent
            total.getdata += stats.getdataSent
            total.served += stats.getdataServed
            total.objectsOut += await d.node.statistics.messagesOut[.object] ?? 0
        }
        return total
    }

    func minus(_ earlier: Traffic) -> Traffic {
        Traffic(
            transmissions: transmissions - earlier.transmissions, objectsOut: objectsOut - earlier.objectsOut,
            inv: inv - earlier.inv, getdata: getdata - earlier.getdata, served: served - earlier.served)
    }
}
