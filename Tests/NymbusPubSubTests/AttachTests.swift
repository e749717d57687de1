import NymbusNode
import NymbusPubSub
import NymbusTestSupport
import Testing

/// What an owner's hook saw of one peer event, and the topic layer's state at that moment.
private actor EventLog {
    private(set) var seen: [(event: PeerEvent, heldPublishes: Int, stillLinked: Int)] = []
    func note(_ event: PeerEvent, heldPublishes: Int, stillLinked: Int) {
        seen.append((event, heldPublishes, stillLinked))
    }
}

extension PeerEvent {
    fileprivate var isConnected: Bool {
        if case .connected = self { return true }
        return false
    }
}

/// `PubSub.attach(then:)`, the one place a topic layer is wired into its node (tests through
/// `attached(to:)`, the daemon with its broker's hook): the owner's hook runs after the topic
/// layer has handled each peer event.
@Suite struct AttachTests {
    @Test func theOwnersHookRunsAfterTheTopicLayerHandledTheEvent() async throws {
        let mesh = try await MixnetMesh.start(count: 2)
        let (quiet, talker) = (mesh.pubsubs[0], mesh.pubsubs[1])
        let log = EventLog()
        await quiet.attach { [weak quiet] event in
            guard let quiet else { return }
            await log.note(event, heldPublishes: await quiet.pendingPublishes, stillLinked: await quiet.linkModes().eager)
        }
        let topic = Topic.named("attach")
        let held = try await quiet.publish([7, 7], to: topic)
        #expect(held.queued)
        #expect(await quiet.pendingPublishes == 1)
        let atTalker = await Collector.start(await talker.subscribe(topic))
        try await mesh.link([(1, 0)])

        // The held publish went out when the link came up, before the owner heard of the link.
        #expect(await atTalker.waitFor(1).map(\.payload) == [[7, 7]])
        #expect(await eventually("the connected event") { await log.seen.count == 1 })
        let connected = await log.seen.first
        #expect(connected?.event.isConnected == true, "\(String(describing: connected))")
        #expect(connected?.heldPublishes == 0)
        #expect(connected?.stillLinked == 1)

        // Topic messages still reach the topic layer through the node's one hook.
        let atQuiet = await Collector.start(await quiet.subscribe(topic))
        try await talker.publish([8], to: topic)
        #expect(await atQuiet.waitFor(1).map(\.payload) == [[8]])
        await atTalker.stop()
        await atQuiet.stop()

        await mesh.nodes[1].stop()
        #expect(await eventually("the disconnected event") { await log.seen.count == 2 })
        let disconnected = await log.seen.last
        #expect(disconnected?.event.isConnected == false, "\(String(describing: disconnected))")
        #expect(disconnected?.stillLinked == 0)
        await mesh.stop()
    }
}
