import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import NymbusWire
import Testing

@testable import NymbusNode

/// The node tells its transport when it has handled each message that arrived (after the
/// topic-layer handler returned), so the topic layer's order hold can tell the mixnet's delays
/// from a loaded node's own queue (spec/broker.md "Order").
@Suite struct InboundBacklogTests {
    /// A gate the topic-layer handler waits at, so a test sees the node in the middle of a message.
    actor Gate {
        private var open = false
        private var waiters: [CheckedContinuation<Void, Never>] = []
        private(set) var entered = 0

        func pass() async {
            entered += 1
            guard !open else { return }
            await withCheckedContinuation { waiters.append($0) }
        }

        func openUp() {
            open = true
            for waiter in waiters { waiter.resume() }
            waiters = []
        }
    }

    @Test func aMessageCountsAsWaitingUntilTheNodeHandledIt() async throws {
        let t = ScriptedTransport()
        let node = Node(transport: t, configuration: testConfiguration(), logger: testLogger())
        let gate = Gate()
        await node.setTopicMessageHandler { _, _ in await gate.pass() }
        try await node.start()
        let session = await NodeSingleTests().visibleHandshake(node, t, from: .random())
        let backlog = try #require(node.inboundBacklog)
        #expect(await eventually { backlog.count == 0 })
        let before = ContinuousClock.now
        t.inject(.object([1, 2, 3]), session: session)
        #expect(await eventually { await gate.entered == 1 })
        // In the topic layer's hands: still waiting, since it arrived.
        #expect(backlog.count == 1)
        let arrived = try #require(backlog.oldestArrival)
        #expect(arrived >= before && arrived <= .now)
        t.inject(.object([4]), session: session)
        t.inject(.ping(nonce: 9), session: session)
        #expect(backlog.count == 3 && backlog.oldestArrival == arrived)
        await gate.openUp()
        _ = await t.log.waitFor { $0.message == .pong(nonce: 9) }
        #expect(await eventually { backlog.count == 0 })
        #expect(backlog.oldestArrival == nil)
        #expect(await gate.entered == 2)
        await node.stop()
    }
}
