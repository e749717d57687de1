// DisseminationBench: flooding against the eager/lazy tree (Plumtree), side by side, on a local
// mixnet paced as nym-client (one packet per 20 ms on average per node, 15 ms per hop).
//
//   DisseminationBench [--nodes 50] [--hidden 5] [--outbound 4] [--size 1024] [--modes flood,tree]
//                      (a mode `tree:N` is the tree with N stripes; `tree` has the default;
//                       `tree:N:keep` without rules 11 and 12, `tree:N:take` without rule 12)
//                      [--rates 2,4,8,12,16,20,25,30] [--step-seconds 12] [--loss 0.05] [--seed 7]
//                      [--per-node] [--quick (no churn, no loss phase)]
//
// Per mode, on the same random graph (each node dials --outbound random visible nodes) with every
// node subscribed and 1 KiB messages from random publishers:
//   - low load (2/s): latency to the last subscriber, mixnet messages per delivery;
//   - a rate sweep: the highest rate at which every node still gets every object (publishing keeps
//     pace and all arrive within a few seconds of the step), messages per delivery at each rate;
//   - half that rate: latency to the last subscriber, reply SURBs a hidden node spends per object;
//   - churn: a third of the nodes leave, as many new ones join, publishing goes on: every live node
//     gets every object exactly once;
//   - on a second overlay with --loss message loss: every node gets every object exactly once.
// Every count is of what arrived at the far end (subscriber deliveries), not of what was accepted.
import BenchSupport
import Foundation
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusWire

Console.lineBuffered()
let arguments = Arguments()
let nodeCount = arguments.int("--nodes", 50)
let hiddenCount = arguments.int("--hidden", 5)
let outbound = arguments.int("--outbound", 4)
let size = arguments.int("--size", 1024)
let seed = UInt64(arguments.int("--seed", 7))
let stepSeconds = arguments.double("--step-seconds", 12)
let loss = arguments.double("--loss", 0.05)
let pruneAfter = arguments.int("--prune-after", PubSubConfiguration().pruneAfterDuplicates)
/// A dissemination to measure: flooding, or the tree with a number of stripes, and the topic
/// layer's configuration that makes it.
struct BenchMode: CustomStringConvertible {
    var configuration: PubSubConfiguration
    var label: String
    var description: String { label }
    var dissemination: PubSubConfiguration.Dissemination { configuration.dissemination }
    var stripes: Int { configuration.treeStripes }
}
/// `flood`, `tree` (the default stripes) or `tree:N`, with an optional variant of the tree:
/// `tree:N:keep`: leaves keep their children and take every graft (rules 11 and 12 off);
/// `tree:N:take`: leaves take every graft (rule 12 off);
/// `tree:N:inv2`: lazy links hear announcements every `lazyAnnounceEvery` heartbeats at any load
/// (rule 7's stretch at load off);
/// `tree:N:cache20`: a repair cache of 20 s instead of 2 min, so a new link's catch-up is short.
let modes = (arguments.string("--modes") ?? "flood,tree").split(separator: ",").compactMap { spec -> BenchMode? in
    let parts = spec.split(separator: ":")
    var configuration = PubSubConfiguration()
    guard let dissemination = PubSubConfiguration.Dissemination(rawValue: String(parts[0])) else { return nil }
    configuration.dissemination = dissemination
    configuration.pruneAfterDuplicates = pruneAfter
    if let keep = Int(ProcessInfo.processInfo.environment["KEEP_EAGER"] ?? "") { configuration.keepEagerLinks = keep }
    // `SPARE_SEND_BUDGET=0`: the tree without rule 9's eager links for latency.
    if let budget = Double(ProcessInfo.processInfo.environment["SPARE_SEND_BUDGET"] ?? "") {
        configuration.spareSendBudget = budget
    }
    if parts.count > 1 { configuration.treeStripes = Int(parts[1]) ?? 0 }
    guard (1...8).contains(configuration.treeStripes) else { return nil }
    let note: String
    switch parts.count > 2 ? String(parts[2]) : "" {
    case "keep":
        (configuration.leafShedsChildren, configuration.leafRefusesGrafts) = (false, false)
        note = ", leaves keep children"
    case "take":
        configuration.leafRefusesGrafts = false
        note = ", leaves take grafts"
    case "inv2":
        configuration.lazyAnnounceEveryAtLoad = configuration.lazyAnnounceEvery
        note = ", inv every 2 at load"
    case "cache20":
        configuration.messageCacheWindow = .seconds(20)
        note = ", repair cache 20 s"
    case "": note = ""
    default: return nil
    }
    let stripes = configuration.treeStripes
    let label = dissemination == .flood ? "flood" : "tree (\(stripes) stripe\(stripes == 1 ? "" : "s")\(note))"
    return BenchMode(configuration: configuration, label: label)
}
let rates = (arguments.string("--rates") ?? "2,4,8,12,16,20,25,30").split(separator: ",").compactMap { Double($0) }
let lowRate = 2.0
/// One nym-client's pace in single-packet objects per second (50 packets/s, NYM-CLIENT.md §7).
let clientPace = 50.0

struct Phase {
    var objects = 0
    var delivered = 0
    var expected = 0
    var duplicates = 0
    /// Messages the mixnet carried (node to node, replies included), and the Sphinx packets its
    /// endpoints sent for them (SURB requests and top-ups included, cover traffic not).
    var messages = 0
    var packets = 0
    var messagesByCommand: [Command: Int] = [:]
    var lastSubscriberNanos: [UInt64] = []
    var publishSeconds = 0.0
    var hiddenMessagesIn = 0
    /// Objects nodes fetched by request (announced, the push never came), grafts and prunes sent.
    var fetched = 0
    var grafts = 0
    var prunes = 0
    /// Each live node's graft wait at the end (seconds), and ids still wanted in all.
    var graftWaits: [Int64] = []
    var wanted = 0
    /// What was published: id, when, by which node.
    var sent: [(MessageID, UInt64, Int)] = []
    /// How often each node was the last subscriber an object reached (objects all reached).
    var lastNodes: [Int: Int] = [:]
    /// Object packets waiting in all nodes' link outboxes as the phase began (the backlog an
    /// earlier phase left), and the packets the nodes last heard their nym-client lanes hold
    /// (`LaneQueueLength` answers, asked only while a link has something to send: stale when idle).
    var backlogAtStart = 0
    var laneReportsAtStart = 0
    /// The nodes that were hidden, for labelling `lastNodes`.
    var hidden: Set<Int> = []
    /// Packets per second each live node's nym-client sent while objects were being published
    /// (its share of the ~50/s pace, NYM-CLIENT.md §7), highest first.
    var nodeSendRates: [Double] = []
    /// CPU cores this process kept busy while objects were being published (the whole overlay
    /// and the local mixnet share the machine: near the core count, the machine is the limit).
    var cores = 0.0
    var complete: Bool { delivered == expected && duplicates == 0 }
    var messagesPerDelivery: Double { Double(messages) / Double(max(1, delivered)) }
    var packetsPerDelivery: Double { Double(packets) / Double(max(1, delivered)) }
    /// The send rate `p` of the nodes stay at or below.
    func nodeSendRate(_ p: Double) -> Double { Sample.percentile(nodeSendRates, p) ?? 0 }
    func latency(_ p: Double) -> Double { Double(Sample.percentile(lastSubscriberNanos, p) ?? 0) / 1e9 }
}

/// Publishes `rate` objects per second for `seconds` from random live nodes, waits up to `grace`
/// seconds after the last for every node in `receivers` to have every object, and counts.
func run(
    _ overlay: Overlay, rate: Double, seconds: Double, grace: Double, rng: inout SplitMix64,
    publishers: [Int]? = nil, receivers: () -> Set<Int>
) async throws -> Phase {
    var phase = Phase()
    let beforeMessages = await overlay.messagesOut()
    let beforeHidden = await overlay.hiddenMessagesIn()
    let beforeDuplicates = overlay.arrivals.duplicates
    let beforeTotals = await overlay.pubsubTotals()
    let beforeMixnet = await overlay.mixnet.counters
    phase.hidden = Set(overlay.members.filter(\.hidden).map(\.index))
    for member in overlay.live {
        let queues = await member.node.sendQueues
        phase.backlogAtStart += queues.objectPackets
        phase.laneReportsAtStart += queues.nymClientPackets
    }
    let count = max(1, Int(rate * seconds))
    let interval = 1.0 / rate
    let sentBefore = await overlay.mixnet.packetsSentPerEndpoint
    let cpuBefore = Measure.cpuNanos()
    let start = Measure.wallNanos()
    var sent: [(MessageID, UInt64, Int)] = []
    var payload = [UInt8](repeating: 0x42, count: size)
    for i in 0..<count {
        let due = start + UInt64(Double(i) * interval * 1e9)
        let now = Measure.wallNanos()
        if due > now { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
        let pool = publishers ?? overlay.live.map(\.index)
        let from = pool.randomElement(using: &rng)!
        payload[0] = UInt8(truncatingIfNeeded: i)
        payload[1] = UInt8(truncatingIfNeeded: i >> 8)
        let at = Measure.wallNanos()
        let result = try await overlay.members[from].pubsub.publish(payload, to: overlay.topic)
        sent.append((result.messageID, at, from))
    }
    phase.publishSeconds = Double(Measure.wallNanos() - start) / 1e9
    phase.cores = Double(Measure.cpuNanos() - cpuBefore) / 1e9 / phase.publishSeconds
    let sentAfter = await overlay.mixnet.packetsSentPerEndpoint
    phase.nodeSendRates = overlay.live.map { member in
        Double(sentAfter[member.index] - (member.index < sentBefore.count ? sentBefore[member.index] : 0)) / phase.publishSeconds
    }.sorted(by: >)
    let ids = sent.map(\.0)
    let targets = receivers()
    let deadline = Measure.wallNanos() + UInt64(grace * 1e9)
    var complete = 0
    while Measure.wallNanos() < deadline {
        complete = 0
        for (id, _, from) in sent where overlay.arrivals.complete([id], nodes: targets.subtracting([from])) == 1 {
            complete += 1
        }
        if complete == sent.count { break }
        try await Task.sleep(for: .milliseconds(200))
    }
    try await Task.sleep(for: .milliseconds(500))  // late duplicates would show
    phase.objects = sent.count
    phase.sent = sent
    for (id, at, from) in sent {
        let arrivals = overlay.arrivals.arrivals(id).filter { targets.contains($0.key) && $0.key != from }
        phase.delivered += arrivals.count
        phase.expected += targets.subtracting([from]).count
        if arrivals.count == targets.subtracting([from]).count, let last = arrivals.max(by: { $0.value < $1.value }) {
            phase.lastSubscriberNanos.append(last.value - at)
            phase.lastNodes[last.key, default: 0] += 1
        }
    }
    phase.duplicates = overlay.arrivals.duplicates - beforeDuplicates
    let afterMessages = await overlay.messagesOut()
    for (command, n) in afterMessages { phase.messagesByCommand[command] = n - (beforeMessages[command] ?? 0) }
    let afterMixnet = await overlay.mixnet.counters
    phase.messages = afterMixnet.messagesRouted - beforeMixnet.messagesRouted
    phase.packets = afterMixnet.packetsSent - beforeMixnet.packetsSent
    phase.hiddenMessagesIn = await overlay.hiddenMessagesIn() - beforeHidden
    let afterTotals = await overlay.pubsubTotals()
    phase.fetched = afterTotals.repairedObjects - beforeTotals.repairedObjects
    phase.grafts = afterTotals.graftSent - beforeTotals.graftSent
    phase.prunes = afterTotals.pruneSent - beforeTotals.pruneSent
    for member in overlay.live {
        phase.graftWaits.append(await member.pubsub.graftWaitSeconds)
        phase.wanted += await member.pubsub.repairRequests.wanted
    }
    return phase
}

func describe(_ name: String, _ p: Phase) -> String {
    let commands = p.messagesByCommand.filter { $0.value > 0 }.sorted { $0.value > $1.value }
        .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    return "\(name): \(p.delivered)/\(p.expected) deliveries, \(p.duplicates) duplicates,"
        + " published in \(Format.number(p.publishSeconds, decimals: 1)) s, latency to last subscriber p50"
        + " \(Format.number(p.latency(0.5), decimals: 2)) s p99 \(Format.number(p.latency(0.99), decimals: 2)) s,"
        + " (p90 \(Format.number(p.latency(0.9), decimals: 2)) s, max \(Format.number(p.latency(1), decimals: 2)) s),"
        + " \(Format.number(p.messagesPerDelivery, decimals: 2)) mixnet messages and"
        + " \(Format.number(p.packetsPerDelivery, decimals: 2)) packets per delivery (nodes sent \(commands));"
        + " \(p.fetched) fetched, \(p.grafts) grafts, \(p.prunes) prunes;"
        + " packets/s a node sent while publishing went on: max \(Format.number(p.nodeSendRates.first ?? 0, decimals: 1)),"
        + " 90th percentile \(Format.number(p.nodeSendRate(0.9), decimals: 1)), mean \(Format.number(p.nodeSendRates.reduce(0, +) / Double(max(1, p.nodeSendRates.count)), decimals: 1))"
        + " (pace 50), \(p.nodeSendRates.count(where: { $0 >= 40 })) nodes ≥ 40/s; process CPU \(Format.number(p.cores, decimals: 2)) cores;"
        + " graft wait at the end \(Dictionary(grouping: p.graftWaits) { $0 }.mapValues(\.count).sorted { $0.key < $1.key }.map { "\($0.key) s: \($0.value)" }.joined(separator: ", ")),"
        + " \(p.wanted) ids still wanted; at the start \(p.backlogAtStart) object packets in outboxes,"
        + " \(p.laneReportsAtStart) in nym-client lanes as last reported;"
        + " last subscriber most often: " + p.lastNodes.sorted { $0.value > $1.value }.prefix(4)
            .map { "node \($0.key)\(p.hidden.contains($0.key) ? " (hidden)" : ""): \($0.value)" }.joined(separator: ", ")
}

struct ModeResult {
    var benchMode: BenchMode
    var mode: PubSubConfiguration.Dissemination { benchMode.dissemination }
    var links = 0
    var low = Phase()
    var sustained = 0.0
    var sweep: [(Double, Phase)] = []
    var half = Phase()
    var churn = Phase()
    var lossy = Phase()
    var churnJoinersComplete = true
}

let edges = Overlay.edges(nodes: nodeCount, hidden: hiddenCount, outbound: outbound, seed: seed)
print(
    "DisseminationBench: \(nodeCount) nodes (\(hiddenCount) hidden), \(edges.count) links (each node dials \(outbound)),"
        + " \(size) B messages from random nodes, every node subscribed; local mixnet paced as nym-client"
        + " (20 ms per packet, 15 ms per hop); tree prunes after \(pruneAfter) duplicate(s) in a row")

var results: [ModeResult] = []
for mode in modes {
    var result = ModeResult(benchMode: mode)
    var rng = SplitMix64(state: seed &+ 1)
    print("\n== \(mode)")
    let setup = Measure.wallNanos()
    let overlay = try await Overlay.start(
        nodes: nodeCount, hidden: hiddenCount, capacity: nodeCount, loss: 0, seed: seed, configuration: mode.configuration)
    try await overlay.link(edges)
    result.links = edges.count
    print("  overlay up and linked in \(Format.number(Double(Measure.wallNanos() - setup) / 1e9, decimals: 1)) s")
    let everyone = { Set(overlay.live.map(\.index)) }
    let warm = try await run(overlay, rate: 4, seconds: 5, grace: 30, rng: &rng, receivers: everyone)
    print("  " + describe("warm-up 4/s", warm))
    result.low = try await run(overlay, rate: lowRate, seconds: 20, grace: 30, rng: &rng, receivers: everyone)
    print("  " + describe("low load \(Format.number(lowRate))/s", result.low))
    for rate in rates {
        let phase = try await run(overlay, rate: rate, seconds: stepSeconds, grace: 10, rng: &rng, receivers: everyone)
        let kept = phase.publishSeconds <= stepSeconds * 1.25
        print("  " + describe("\(Format.number(rate))/s", phase) + (kept ? "" : " — publishers were slowed"))
        result.sweep.append((rate, phase))
        guard phase.complete, kept else { break }
        result.sustained = rate
    }
    // Let any backlog of a failed step drain before measuring at half the sustained rate.
    try await Task.sleep(for: .seconds(15))
    let half = max(1, result.sustained / 2)
    result.half = try await run(overlay, rate: half, seconds: 20, grace: 30, rng: &rng, receivers: everyone)
    print("  " + describe("half the sustained rate, \(Format.number(half))/s", result.half))
    if arguments.flag("--per-node") {
        for member in overlay.live {
            let s = await member.pubsub.statistics
            let modes = await member.pubsub.linkModes()
            let queues = await member.node.sendQueues
            print(
                "    node \(member.index)\(member.hidden ? " (hidden)" : ""): eager \(modes.eager) lazy \(modes.lazy)"
                    + " (per stripe \(await member.pubsub.eagerLinksPerStripe()), home \(await member.pubsub.homeStripe)),"
                    + " accepted \(s.accepted), fetched \(s.repairedObjects), duplicates \(s.duplicates),"
                    + " prune \(s.pruneSent)/\(s.pruneReceived), graft \(s.graftSent)/\(s.graftReceived),"
                    + " late pushes \(s.latePushes), graft wait \(await member.pubsub.graftWaitSeconds) s,"
                    + " queued: \(queues.messages) messages, \(queues.objectPackets) object packets, \(queues.nymClientPackets) in nym-client")
        }
    }
    print(
        "  hidden nodes received \(Format.number(Double(result.half.hiddenMessagesIn) / Double(max(1, hiddenCount * result.half.objects)), decimals: 2))"
            + " messages (each ≥ 1 reply SURB a peer spent) per node per object")

    var eagerDegrees: [Int: Int] = [:]
    for member in overlay.live { eagerDegrees[await member.pubsub.linkModes().eager, default: 0] += 1 }
    print("  eager links per node (links: nodes): " + eagerDegrees.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
    if mode.dissemination == .tree, mode.stripes > 1 {
        // Per stripe: the nodes interior in it (home stripe) and the leaves, by eager links.
        for stripe in 0..<mode.stripes {
            var interior: [Int: Int] = [:]
            var leaf: [Int: Int] = [:]
            for member in overlay.live {
                let eager = await member.pubsub.eagerLinksPerStripe()[stripe]
                if await member.pubsub.homeStripe == stripe && !member.hidden {
                    interior[eager, default: 0] += 1
                } else {
                    leaf[eager, default: 0] += 1
                }
            }
            let show = { (d: [Int: Int]) in d.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") }
            print("  stripe \(stripe) eager links (links: nodes): interior \(show(interior)); leaves \(show(leaf))")
        }
    }
    if arguments.flag("--quick") {  // no churn and no loss phase
        await overlay.stop()
        results.append(result)
        continue
    }

    // Churn: a third leave (never node 0), as many join; publishing goes on throughout.
    let leaving = Array(Set(overlay.live.map(\.index)).subtracting([0]).shuffled(using: &rng).prefix(nodeCount / 3))
    let survivors = Set(overlay.live.map(\.index)).subtracting(leaving)
    for index in leaving { await overlay.leave(index) }
    let joined = try await overlay.join(count: leaving.count, outbound: outbound, rng: &rng)
    result.churn = try await run(
        overlay, rate: lowRate, seconds: 20, grace: 40, rng: &rng, publishers: Array(survivors).sorted(),
        receivers: { survivors.union(joined) })
    print("  " + describe("churn (\(leaving.count) left, \(joined.count) joined), \(Format.number(lowRate))/s", result.churn))
    for (group, nodes) in [("survivors", survivors), ("joiners", Set(joined))] {
        var lasts: [UInt64] = []
        for (id, at, from) in result.churn.sent {
            let times = overlay.arrivals.arrivals(id).filter { nodes.contains($0.key) && $0.key != from }.values
            if let last = times.max() { lasts.append(last - at) }
        }
        print(
            "    latency to the last of the \(group): p50 \(Format.number(Double(Sample.percentile(lasts, 0.5) ?? 0) / 1e9, decimals: 2)) s"
                + " p99 \(Format.number(Double(Sample.percentile(lasts, 0.99) ?? 0) / 1e9, decimals: 2)) s")
    }
    await overlay.stop()

    // Loss: a fresh overlay whose mixnet loses --loss of all messages.
    let lossy = try await Overlay.start(
        nodes: nodeCount, hidden: hiddenCount, capacity: nodeCount, loss: loss, seed: seed &+ 2, configuration: mode.configuration)
    try await lossy.link(edges)
    let everyoneLossy = { Set(lossy.live.map(\.index)) }
    _ = try await run(lossy, rate: 4, seconds: 5, grace: 30, rng: &rng, receivers: everyoneLossy)
    result.lossy = try await run(lossy, rate: lowRate, seconds: 20, grace: 60, rng: &rng, receivers: everyoneLossy)
    print("  " + describe("\(Format.number(loss * 100)) % loss, \(Format.number(lowRate))/s", result.lossy))
    await lossy.stop()
    results.append(result)
}

// Rows: tree against flood (the baseline), measured in this run.
print("")
let flood = results.first { $0.mode == .flood }
for r in results {
    let name = "dissemination \(r.benchMode)"
    ResultRow(
        benchmark: "\(name): mixnet messages per delivery at \(Format.number(lowRate))/s"
            + (r.mode == .tree ? " (rule 9: idle cover slots carry extra copies)" : ""),
        figure: Format.number(r.low.messagesPerDelivery, decimals: 2),
        baseline: flood.map { "flood \(Format.number($0.low.messagesPerDelivery, decimals: 2))" } ?? "floor 1.0",
        ratio: flood.map { $0.low.messagesPerDelivery / max(0.001, r.low.messagesPerDelivery) },
        goal: "≤ 1.3", met: r.low.messagesPerDelivery <= 1.3
    ).emit()
    if let mid = r.sweep.last(where: { $0.0 == r.sustained }) {
        ResultRow(
            benchmark: "\(name): mixnet messages per delivery at \(Format.number(mid.0))/s",
            figure: Format.number(mid.1.messagesPerDelivery, decimals: 2), baseline: "floor 1.0",
            ratio: 1.0 / max(0.001, mid.1.messagesPerDelivery), goal: "≤ 1.3",
            met: mid.1.messagesPerDelivery <= 1.3
        ).emit()
        ResultRow(
            benchmark: "\(name): Sphinx packets per delivery at \(Format.number(mid.0))/s (SURB traffic included)",
            figure: Format.number(mid.1.packetsPerDelivery, decimals: 2), baseline: "1 KiB object: 1 packet",
            ratio: nil
        ).emit()
    }
    // What the busiest nym-client spent of its pace at the highest rate measured up to the goal:
    // the protocol's own limit, apart from this machine's CPU (`process CPU` in each phase).
    if let top = r.sweep.last(where: { $0.0 <= clientPace / 2 }) {
        ResultRow(
            benchmark: "\(name): packets/s the busiest node sent at \(Format.number(top.0))/s (90th percentile)",
            figure: "\(Format.number(top.1.nodeSendRates.first ?? 0, decimals: 1)) (\(Format.number(top.1.nodeSendRate(0.9), decimals: 1)))",
            baseline: "one nym-client's pace \(Format.number(clientPace))/s",
            ratio: (top.1.nodeSendRates.first ?? 0) / clientPace
        ).emit()
    }
    ResultRow(
        benchmark: "\(name): sustained rate, every node gets every object",
        figure: "\(Format.number(r.sustained)) objects/s",
        baseline: "one nym-client's pace \(Format.number(clientPace)) packets/s",
        ratio: r.sustained / clientPace, goal: "≥ 0.50", met: r.sustained / clientPace >= 0.5
    ).emit()
    ResultRow(
        benchmark: "\(name): latency to last subscriber at \(Format.number(max(1, r.sustained / 2)))/s (p50 / p99)",
        figure: "\(Format.number(r.half.latency(0.5), decimals: 2)) / \(Format.number(r.half.latency(0.99), decimals: 2)) s",
        baseline: "—", ratio: nil
    ).emit()
    ResultRow(
        benchmark: "\(name): latency to last subscriber at \(Format.number(lowRate))/s (p99)",
        figure: "\(Format.number(r.low.latency(0.99), decimals: 2)) s",
        baseline: flood.map { "flood \(Format.number($0.low.latency(0.99), decimals: 2)) s" } ?? "—",
        ratio: flood.map { $0.low.latency(0.99) / max(0.001, r.low.latency(0.99)) },
        goal: r.mode == .tree ? "≤ 1.5× flood" : "—",
        met: r.mode == .tree ? flood.map { r.low.latency(0.99) <= 1.5 * $0.low.latency(0.99) } : nil
    ).emit()
    // With --quick neither phase ran: no row, rather than a "yes" for 0 of 0.
    let exactlyOnce = [
        ("every live node gets every object once under churn", r.churn),
        ("every node gets every object once at \(Format.number(loss * 100)) % loss", r.lossy),
    ]
    for (what, phase) in exactlyOnce where phase.expected > 0 {
        ResultRow(
            benchmark: "\(name): \(what)", figure: "\(phase.delivered)/\(phase.expected), \(phase.duplicates) dup",
            baseline: "—", ratio: nil, goal: "all, 0 dup", met: phase.complete
        ).emit()
    }
    ResultRow(
        benchmark: "\(name): messages (≥ 1 reply SURB each) a hidden node receives per object",
        figure: Format.number(Double(r.half.hiddenMessagesIn) / Double(max(1, hiddenCount * r.half.objects)), decimals: 2),
        baseline: "floor 1.0", ratio: nil
    ).emit()
}
