import Foundation
import NymbusMixnet
import NymbusNode
import NymbusTestSupport
import Testing

@testable import NymbusPubSub

/// The eager/lazy tree across nodes, every byte through the local mixnet (spec/pubsub.md §15).
@Suite(.serialized) struct TreeMixnetTests {
    /// A(0) links to B(1) and C(2), both link to D(3): D hears every object twice, so one of its
    /// links is pruned and D's objects come down the other. Then D's eager parent dies. The ids
    /// still reach D over the pruned link; once D sees its tree is quiet it grafts that link, and
    /// later objects are pushed to D again: every object arrives exactly once.
    @Test(.timeLimit(.minutes(3))) func aPrunedLinkIsGraftedBackWhenTheTreeAboveItDies() async throws {
        let mesh = try await MixnetMesh.start(count: 4, hopDelay: .milliseconds(10), seed: 41) { _, config in
            config.dissemination = .tree
            config.pruneAfterDuplicates = 1  // a tree after the first duplicate: the test stays short
            config.keepEagerLinks = 0  // D has only two links: let it prune down to one
            config.spareSendBudget = 0  // and keep no more for latency at this low rate (rule 9)
            config.treeStripes = 1  // one tree, so "D's eager link" is one link (each stripe's tree heals alike)
        }
        try await mesh.link([(1, 0), (2, 0), (3, 1), (3, 2)])
        let topic = Topic.named("tree")
        let d = await Collector.start(await mesh.pubsubs[3].subscribe(topic))
        var ids: [MessageID] = []
        func publish(_ n: Int) async throws {
            for i in 0..<n {
                ids.append(try await mesh.pubsubs[0].publish(Array("tree \(ids.count) \(i)".utf8), to: topic).messageID)
                try await Task.sleep(for: .milliseconds(200))
            }
        }

        // The tree forms: one of D's two links turns lazy. Duplicates shape it, so objects keep
        // coming until it has: under load a push can come after D fetched its object (a late push,
        // which prunes nothing), and both ends may prune at once and leave D with no eager link
        // for a moment, which it then grafts back (what this test is about too).
        var formed = false
        for _ in 0..<40 where !formed {
            try await publish(1)
            _ = await d.waitFor(ids.count, within: 30)
            formed = await mesh.pubsubs[3].linkModes() == (eager: 1, lazy: 1)
        }
        #expect(formed, "D pruned one of its links within 40 objects")
        #expect(await d.waitFor(ids.count, within: 30).count == ids.count)
        // Which of B and C is D's eager parent: D's own tree says. B's and C's modes follow D's
        // prune (and any graft back) only once it crossed the mixnet, so they are awaited; read
        // at once, a loaded machine took the parent whose prune was still on its way for the
        // other one, and waited for the wrong node to turn D lazy.
        let dTree = await mesh.pubsubs[3].trees
        let eagerParent = try #require(await mesh.nodes[3].peers().first { dTree.isEager($0.id, in: 0) }?.address)
        let parent = eagerParent == mesh.endpoints[1].address ? 1 : 2
        let other = 3 - parent
        #expect(
            await eventually { await mesh.pubsubs[parent].linkModes() == (eager: 2, lazy: 0) }, "A and D are pushed to")
        #expect(
            await eventually { await mesh.pubsubs[other].linkModes() == (eager: 1, lazy: 1) },
            "only A; D is lazy (once D's prune arrived)")
        let fetchedBefore = await mesh.pubsubs[3].statistics.repairedObjects

        // D's parent dies: the only way to D is the pruned link.
        await mesh.nodes[parent].stop()
        #expect(
            await eventually {
                let d = await mesh.nodes[3].peers().count
                let a = await mesh.nodes[0].peers().count
                return d == 1 && a == 1
            })
        let formedAfter = ids.count
        try await publish(6)
        #expect(await d.waitFor(formedAfter + 6, within: 60).count == formedAfter + 6)
        let grafted = await eventually { await mesh.pubsubs[3].linkModes() == (eager: 1, lazy: 0) }
        #expect(grafted, "D grafted the link it had pruned")
        let healed = await mesh.pubsubs[3].statistics
        #expect(healed.graftSent >= 1)
        #expect(await mesh.pubsubs[other].statistics.graftReceived >= 1)
        #expect(healed.repairedObjects > fetchedBefore, "what the dead parent never pushed was fetched")

        // From now on objects are pushed to D again: none of these is fetched.
        try await publish(4)
        #expect(await d.waitFor(formedAfter + 10, within: 30).count == formedAfter + 10)
        #expect(await mesh.pubsubs[3].statistics.repairedObjects == healed.repairedObjects)
        try await Task.sleep(for: .seconds(2))
        let got = await d.deliveries
        #expect(got.count == ids.count && Set(got.map(\.messageID)) == Set(ids), "each exactly once")
        #expect(await mesh.pubsubs[3].statistics.dropped == 0)
        await mesh.stop()
    }
}
