import NymClient
import NymbusCrypto
import NymbusMixnet
import Testing

@testable import NymbusNode

/// A whole network on the local mixnet: discovery from one seed.
@Suite(.timeLimit(.minutes(3))) struct MixnetNetworkTests {
    /// 20 visible nodes and one hidden node, all bootstrapped from node 0, with nym-client's
    /// default 15 ms mean delay per hop (so messages overtake each other).
    @Test func twentyNodesFromOneSeedReachTheirTargetAndLearnTheNetwork() async throws {
        let visible = 20
        let hiddenIndex = visible
        let net = try await MixnetHarness.start(clients: visible + 1, hopDelay: .milliseconds(15))
        var nodes: [Node] = []
        var connections: [NymClientConnection] = []
        for i in 0...hiddenIndex {
            var config = mixnetConfiguration(i == hiddenIndex ? .hidden : .visible, outbound: 8)
            config.maintenanceInterval = .milliseconds(100)
            config.redialDelay = .seconds(30)
            config.handshakeTimeout = .seconds(3)
            config.bootstrap = i == 0 ? [] : [net.address(0)]
            let (node, connection) = try await net.node(i, config)
            nodes.append(node)
            connections.append(connection)
        }
        let all = nodes
        let started = ContinuousClock.now
        #expect(await allReachOutboundTarget(all, timeout: .seconds(60)))

        var bookSizes: [Int] = []
        for (i, node) in nodes.enumerated() where i != hiddenIndex {
            let book = Set(await node.knownAddresses())
            bookSizes.append(book.subtracting([net.address(i)]).count)
            #expect(!book.contains(net.address(i)))
            #expect(!book.contains(net.address(hiddenIndex)))  // a hidden node is in no book
            let outbound = await node.peers().filter { $0.direction == .outbound }
            #expect(Set(outbound.compactMap(\.address)).count == outbound.count)  // distinct, proven
        }
        let hiddenPeers = await nodes[hiddenIndex].peers()
        #expect(hiddenPeers.allSatisfy { $0.direction == .outbound && $0.mode == .hidden })
        // "Most of the network": every book holds at least 3/4 of the other 19 visible nodes.
        #expect(bookSizes.allSatisfy { $0 >= 15 }, "book sizes: \(bookSizes)")
        var handshakes = 0
        for node in nodes {
            let s = await node.statistics
            handshakes += s.handshakesCompleted
            #expect(s.droppedWrongPath == 0 && s.malformed == 0 && s.protocolViolations == 0)
        }
        print(
            "network: book sizes \(bookSizes.sorted()), handshakes \(handshakes), at \(ContinuousClock.now - started)")

        // Three nodes leave; everyone else replaces the lost links from its book.
        for i in [3, 7, 11] {
            await nodes[i].stop()
            await connections[i].close()
        }
        let remaining = nodes.enumerated().filter { ![3, 7, 11].contains($0.offset) }.map(\.element)
        let gone: Set<Recipient> = [net.address(3), net.address(7), net.address(11)]
        var lost = 0
        for node in remaining {
            lost += await node.peers().filter { $0.address.map(gone.contains) ?? false }.count
        }
        #expect(lost > 0)
        #expect(
            await eventually {
                for node in remaining
                where await node.peers().contains(where: { $0.address.map(gone.contains) ?? false }) {
                    return false
                }
                return true
            })
        let lostAt = ContinuousClock.now
        #expect(await allReachOutboundTarget(remaining, timeout: .seconds(60)))
        print("network: \(lost) links lost, all back to 8 outbound after \(ContinuousClock.now - lostAt)")
        for node in remaining { await node.stop() }
        for (i, connection) in connections.enumerated() where ![3, 7, 11].contains(i) { await connection.close() }
        await net.stop()
    }

    /// A lossy mixnet that also duplicates: handshakes are retried, duplicates are harmless.
    @Test func linksFormDespiteLossAndDuplicates() async throws {
        let count = 10
        let net = try await MixnetHarness.start(
            clients: count, hopDelay: .milliseconds(15), loss: 0.05, duplicates: 0.1)
        var nodes: [Node] = []
        var connections: [NymClientConnection] = []
        for i in 0..<count {
            var config = mixnetConfiguration(outbound: 4)
            config.maintenanceInterval = .milliseconds(100)
            config.redialDelay = .seconds(2)
            config.handshakeTimeout = .seconds(2)
            config.bootstrap = i == 0 ? [] : [net.address(0)]
            let (node, connection) = try await net.node(i, config)
            nodes.append(node)
            connections.append(connection)
        }
        let all = nodes
        #expect(
            await eventually(timeout: .seconds(60)) {
                for node in all where await node.peers().filter({ $0.direction == .outbound }).count < 4 {
                    return false
                }
                return true
            })
        var duplicates = 0
        for node in nodes {
            let s = await node.statistics
            duplicates += s.duplicates
            #expect(s.protocolViolations == 0 && s.malformed == 0 && s.droppedWrongPath == 0)
        }
        let counters = await net.mixnet.counters
        print(
            "lossy network: \(counters.droppedByLoss) lost, \(counters.duplicated) duplicated, \(duplicates) duplicate handshake messages ignored"
        )
        for node in nodes { await node.stop() }
        for connection in connections { await connection.close() }
        await net.stop()
    }

    func allReachOutboundTarget(_ nodes: [Node], timeout: Duration) async -> Bool {
        await eventually(timeout: timeout) {
            for node in nodes where await node.peers().filter({ $0.direction == .outbound }).count < 8 { return false }
            return true
        }
    }
}
