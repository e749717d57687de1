// CatchupBench (issue 14): what catching up after being offline costs, over the local mixnet
// with nym-client's pacing (one packet per 20 ms per client, as by default).
//
//   CatchupBench [--cases 10m,6h] [--history-hours 24] [--hidden] [--baseline-max 2000]
//
// A topic at 1 message/s: the history is sealed (real objects, 1536 bytes each) and inserted
// into two archives rather than waited for. The responder R holds `--history-hours` of it; the
// catcher C holds the same minus the last 10 minutes (600 objects) or 6 hours (21 600). C links
// to R and reconciles (spec/pubsub.md §15) until it fetched every object it lacked.
//
// Figures: Sphinx packets the mixnet's senders emitted (both directions, data and SURBs) per
// missed message, goal ≤ 1.5; and the time from the link to caught-up. Baselines, same run:
// for packets, the floor of one packet per missed object (each is one 1536-byte object); for
// time, the same link carrying new objects live (R publishes min(missed, --baseline-max) objects,
// flooded to C at the publisher's pace), per object.
import BenchSupport
import Foundation
import Logging
import NymClient
import NymbusCrypto
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusWire

Console.lineBuffered()
let arguments = Arguments()
let cases = (arguments.string("--cases") ?? "10m,6h").split(separator: ",").map(String.init)
let historyHours = arguments.int("--history-hours", 24)
let hidden = arguments.flag("--hidden")
let baselineMax = arguments.int("--baseline-max", 2000)

struct Failure: Error, CustomStringConvertible { let description: String }

let quiet: Logger = {
    var logger = Logger(label: "catchupbench") { _ in SwiftLogNoOpLogHandler() }
    logger.logLevel = .critical
    return logger
}()

struct Member {
    let connection: NymClientConnection
    let node: Node
    let pubsub: PubSub<Node>

    static func start(_ endpoint: MixnetEndpoint, hidden: Bool, archive: any ObjectArchive) async throws -> Member {
        let connection = NymClientConnection(configuration: try NymClientConfiguration(url: endpoint.url), logger: quiet)
        try await connection.start()
        var nc = NodeConfiguration(mode: hidden ? .hidden : .visible)
        nc.outboundTarget = 0
        let node = Node(transport: connection, configuration: nc, logger: quiet)
        try await node.start()
        let pubsub = try await PubSub.attached(to: node, logger: quiet)
        await pubsub.useArchive(archive)
        return Member(connection: connection, node: node, pubsub: pubsub)
    }

    func stop() async {
        await pubsub.stop()
        await pubsub.stopSync()
        await node.stop()
        await connection.close()
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

/// The history: one object per second for `hours`, ending now, oldest first.
func history(hours: Int, topic: Topic) throws -> [ArchivedObject] {
    let now = Int64(Date().timeIntervalSince1970)
    let count = hours * 3600
    var out: [ArchivedObject] = []
    out.reserveCapacity(count)
    for i in 0..<count {
        let t = now - Int64(count - i)
        let object = try TopicObject.seal(
            payload: Array("message \(i)".utf8), objectType: ObjectType.rawBytes, topic: topic,
            timestamp: UInt32(t / 60), author: nil)
        out.append(ArchivedObject(id: object.messageID, timestamp: object.timestamp, bytes: object.bytes))
    }
    return out
}

func waitUntil(timeout: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}

let topic = Topic.named("catchup-bench")
let started = ContinuousClock.now
let objects = try history(hours: historyHours, topic: topic)
print("sealed \(objects.count) objects of history in \(Format.number(seconds(ContinuousClock.now - started), decimals: 1)) s")

for label in cases {
    let missed: Int
    switch label {
    case "10m": missed = 600
    case "1h": missed = 3600
    case "6h": missed = 6 * 3600
    default: throw Failure(description: "unknown case \(label) (10m, 1h, 6h)")
    }
    guard missed < objects.count else { throw Failure(description: "history too short for \(label)") }
    var mc = MixnetConfiguration()
    mc.clientCount = 2
    mc.seed = 14
    let mixnet = try LocalMixnet(configuration: mc, logger: quiet)
    try await mixnet.start()
    let endpoints = await mixnet.endpoints
    let rArchive = MemoryObjectArchive()
    let cArchive = MemoryObjectArchive()
    for (i, o) in objects.enumerated() {
        _ = try rArchive.insert(o)
        if i < objects.count - missed { _ = try cArchive.insert(o) }
    }
    let r = try await Member.start(endpoints[0], hidden: false, archive: rArchive)
    let c = try await Member.start(endpoints[1], hidden: hidden, archive: cArchive)

    // Catch-up.
    let packets0 = await mixnet.counters.packetsSent
    let t0 = ContinuousClock.now
    _ = try await c.node.connect(to: endpoints[0].address)
    let done = await waitUntil(timeout: .seconds(Int64(missed) / 5 + 120)) {
        let s = await c.pubsub.syncStatistics
        let wanted = await c.pubsub.syncWanted
        return s.fetched + s.duplicates >= missed && wanted == 0
    }
    let catchupTime = ContinuousClock.now - t0
    let catchupPackets = await mixnet.counters.packetsSent - packets0
    let s = await c.pubsub.syncStatistics
    guard done else {
        throw Failure(description: "\(label): caught up on \(s.fetched) of \(missed) in \(catchupTime)")
    }

    // Baseline: the same link carrying new objects live.
    let live = min(missed, baselineMax)
    let accepted0 = await c.pubsub.statistics.accepted
    let b0 = ContinuousClock.now
    let livePackets0 = await mixnet.counters.packetsSent
    for i in 0..<live { try await r.pubsub.publish(Array("live \(i)".utf8), to: topic) }
    let liveDone = await waitUntil(timeout: .seconds(Int64(live) / 5 + 60)) {
        await c.pubsub.statistics.accepted - accepted0 >= live
    }
    let liveTime = ContinuousClock.now - b0
    let livePackets = await mixnet.counters.packetsSent - livePackets0
    guard liveDone else { throw Failure(description: "\(label): the live baseline did not arrive") }

    let perMissed = Double(catchupPackets) / Double(missed)
    let perObjectCatchup = seconds(catchupTime) / Double(missed)
    let perObjectLive = seconds(liveTime) / Double(live)
    let mode = hidden ? "hidden" : "visible"
    print(
        "\(label) (\(mode)): \(missed) missed of \(objects.count); caught up in \(Format.number(seconds(catchupTime), decimals: 1)) s, \(catchupPackets) packets (\(Format.number(perMissed, decimals: 3))/missed); \(s.rangesSent) syncrange sent, \(s.getsSent) syncget (\(s.idsAsked) ids), \(s.fetched) fetched, \(s.duplicates) duplicates, \(s.replySURBsSpent) reply SURBs; live baseline: \(live) objects in \(Format.number(seconds(liveTime), decimals: 1)) s, \(livePackets) packets"
    )
    ResultRow(
        benchmark: "catch-up after \(label) at 1 msg/s (\(mode)): packets per missed message",
        figure: Format.number(perMissed, decimals: 3), baseline: "1 (one packet per object)",
        ratio: 1 / perMissed, goal: "≤ 1.5 packets", met: perMissed <= 1.5
    ).emit()
    ResultRow(
        benchmark: "catch-up after \(label) at 1 msg/s (\(mode)): time to caught-up",
        figure: "\(Format.number(seconds(catchupTime), decimals: 1)) s (\(Format.number(perObjectCatchup * 1000, decimals: 1)) ms/object)",
        baseline: "\(Format.number(perObjectLive * 1000, decimals: 1)) ms/object live", ratio: perObjectLive / perObjectCatchup
    ).emit()
    await c.stop()
    await r.stop()
    await mixnet.stop()
}
