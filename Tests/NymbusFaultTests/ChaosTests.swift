import Foundation
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymClient
import NymbusTestSupport
import Testing

/// Issue 15's "done when": nodes are killed (as by SIGKILL: no bye, nothing written) and
/// restarted, one at a time, then three at once, and the local mixnet itself restarts; after
/// each event every node is back at its outbound target, with every link it lists known at
/// both ends, within `recoveryBound`, and every message published while all nodes were up
/// reaches every node exactly once.
///
/// 8 nodes (3 hidden) and a visible publisher, outbound target 3. `NYMBUS_CHAOS_NODES=N`
/// (N ≥ 8) runs a larger version with N nodes, a third of them hidden.
@Suite(.serialized) struct ChaosTests {
    /// How long the links may stand still short of recovery: an upper limit for a loaded 2-core
    /// machine, not a statement about speed (the times measured are printed; `make bench`
    /// reports them).
    static let recoveryBound: Duration = .seconds(30)

    @Test(.timeLimit(.minutes(5))) func everyNodeRecoversFromKillsAndAMixnetRestart() async throws {
        let nodes = max(8, Int(ProcessInfo.processInfo.environment["NYMBUS_CHAOS_NODES"] ?? "") ?? 8)
        let hiddenCount = nodes == 8 ? 3 : nodes / 3
        let hidden = Set((nodes - hiddenCount)..<nodes)
        let publisher = nodes  // one more endpoint, visible, never killed
        let target = 3
        let net = try await FaultNetwork.start(clients: nodes + 1, sendDelay: .milliseconds(20), persistent: true) { _, node in
            LinkRecoveryTests.quickProbes(&node)
            node.outboundTarget = target
            node.addressFetchInterval = .seconds(1)
            node.bookSaveDelay = .milliseconds(200)
        }
        // Node 0 is everyone's bootstrap; visible nodes 1... also bootstrap the hidden ones.
        try await net.startNode(0)
        for index in 1..<nodes {
            try await net.startNode(index, hidden: hidden.contains(index), bootstrap: hidden.contains(index) ? [0, 1] : [0])
        }
        try await net.startNode(publisher, bootstrap: [0])
        let everyone = Array(0...nodes)
        let topic = Topic.named("chaos")
        var logs: [Int: DeliveryLog] = [:]
        for index in everyone { logs[index] = await DeliveryLog.start(await net.pubsub(index).subscribe(topic)) }

        /// Every node has `target` outbound links known at both ends, and lists no link its
        /// other end does not (no dead or ghost link).
        func recovered() async -> Bool {
            let both = Set(await net.sessions().keys)
            for index in everyone {
                let peers = await net.node(index).peers()
                let outbound = peers.filter { $0.direction == .outbound && both.contains($0.id.sessionID) }
                guard outbound.count >= target, peers.allSatisfy({ both.contains($0.id.sessionID) }) else { return false }
            }
            return true
        }
        func describe() async -> String {
            let both = Set(await net.sessions().keys)
            var lines: [String] = []
            for index in everyone {
                let peers = await net.node(index).peers()
                let out = peers.filter { $0.direction == .outbound && both.contains($0.id.sessionID) }.count
                let onesided = peers.filter { !both.contains($0.id.sessionID) }.count
                lines.append("\(index): \(out) out, \(peers.count) links, \(onesided) one-sided")
            }
            return lines.joined(separator: "; ")
        }

        var published: [String] = []
        var round = 0
        /// Publishes 3 messages with every node up and waits until every node has them.
        func publishRound(_ label: String) async throws {
            let payloads = (0..<3).map { "\(label)-\($0)" }
            for payload in payloads { try await net.pubsub(publisher).publish(Array(payload.utf8), to: topic) }
            published += payloads
            for index in everyone {
                let log = logs[index]!
                let got = await eventually { await log.contains(all: payloads) }
                let have = await log.payloads
                #expect(got, "\(label): node \(index) is missing some of \(payloads): has \(have)")
            }
            round += 1
        }

        var recoveries: [(String, Duration)] = []
        /// Waits for recovery after an event, records how long it took. The wait lasts while the
        /// links keep changing (on a loaded machine recovery is slower, not stuck); it fails once
        /// they stop changing for `recoveryBound` short of the target.
        func awaitRecovery(_ label: String) async throws {
            let start = ContinuousClock.now
            let ok = await eventually(
                "\(label): every node back at its outbound target", stalledFor: Self.recoveryBound,
                progress: { await describe() }
            ) { await recovered() }
            let state = await describe()
            #expect(ok, "\(label): not every node is back at its outbound target: \(state)")
            recoveries.append((label, ContinuousClock.now - start))
        }

        try await awaitRecovery("start")
        try await publishRound("start")
        for victim in 0..<nodes {
            await net.crashNode(victim)
            await logs[victim]?.stop()
            try await net.restartNode(victim)
            logs[victim] = await DeliveryLog.start(await net.pubsub(victim).subscribe(topic))
            try await awaitRecovery("kill \(victim)")
            try await publishRound("after-kill-\(victim)")
        }
        let three = [1, nodes - hiddenCount, nodes - 1]  // a visible and two hidden nodes
        for victim in three {
            await net.crashNode(victim)
            await logs[victim]?.stop()
        }
        for victim in three {
            try await net.restartNode(victim)
            logs[victim] = await DeliveryLog.start(await net.pubsub(victim).subscribe(topic))
        }
        try await awaitRecovery("kill \(three)")
        try await publishRound("after-kill-three")

        var reconnects: [Int: Int] = [:]
        for index in everyone { reconnects[index] = await net.transport(index).reconnectCount }
        try await net.mixnet.restart()
        for index in everyone {
            let transport = await net.transport(index)
            #expect(await eventually { await isBack(transport, reconnects: reconnects[index]! + 1) })
        }
        try await awaitRecovery("mixnet restart")
        try await publishRound("after-mixnet-restart")

        // Exactly once: no payload arrived twice at any node (catching up on messages published
        // before a node's restart is allowed; twice is not).
        for index in everyone {
            let got = await logs[index]!.payloads
            var counts: [String: Int] = [:]
            for payload in got { counts[payload, default: 0] += 1 }
            let twice = counts.filter { $0.value > 1 }
            #expect(twice.isEmpty, "node \(index) got these more than once: \(twice)")
        }
        let times = recoveries.map { "\($0.0): \($0.1.formatted(.units(allowed: [.milliseconds])))" }
        print("chaos: \(nodes) nodes (\(hiddenCount) hidden), target \(target); recovery \(times.joined(separator: ", "))")
        for log in logs.values { await log.stop() }
        await net.shutdown()
    }
}
