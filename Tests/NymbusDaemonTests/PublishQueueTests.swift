import NymbusBroker
import NymbusPubSub
import Testing

@testable import NymbusDaemon

/// The queue between the broker's event loop and the topic layer: what it takes at once, what
/// waits, what it refuses, and that answers reach the right waiter.
@Suite struct PublishQueueTests {
    private let topic = Topic.named("queue")

    private func entries(_ payloads: String...) -> [PublishQueue.Entry] {
        payloads.map { PublishQueue.Entry(topic: topic, channel: Array("queue".utf8), payload: Array($0.utf8)) }
    }

    @Test func offerNeedsALinkedPeerAndRoom() async {
        let queue = PublishQueue(maxMessages: 4, maxBytes: 100)
        #expect(!queue.offer(entries("a")))  // no peer yet: the topic layer could refuse it
        queue.setLinked(true)
        #expect(queue.offer(entries("a", "b", "c")))
        #expect(!queue.offer(entries("d", "e")))  // 5 > 4 messages
        #expect(queue.offer(entries("d")))
        let round = await queue.next()
        #expect(round?.entries.map { String(decoding: $0.payload, as: UTF8.self) } == ["a", "b", "c", "d"])
        #expect(round?.replies.isEmpty == true)
        // Bytes count too; a run larger than the limit is still taken by an empty queue.
        #expect(queue.offer([PublishQueue.Entry(topic: topic, channel: [1], payload: Array(repeating: 7, count: 150))]))
        #expect(!queue.offer(entries("x")))
        #expect((await queue.next())?.entries.first?.payload.count == 150)
    }

    @Test func submitWaitsForRoomGetsItsOwnAnswersAndGoesBeforeLaterOffers() async throws {
        let queue = PublishQueue(maxMessages: 2, maxBytes: 100)
        queue.setLinked(true)
        #expect(queue.offer(entries("a", "b")))
        let submitted = Task { await queue.submit(entries("c", "d")) }
        // The submitter waits for room; meanwhile an offer may not overtake it.
        let refusedWhileWaiting = await eventually(timeout: .seconds(10)) { !queue.offer(entries("e")) }
        #expect(refusedWhileWaiting)
        let first = try #require(await queue.next())
        #expect(first.entries.map(\.payload) == [Array("a".utf8), Array("b".utf8)])
        let second = try #require(await queue.next())
        #expect(second.entries.map(\.payload) == [Array("c".utf8), Array("d".utf8)])
        #expect(second.replies.count == 1)
        #expect(second.replies.first?.range == 0..<2)
        let refusal = BrokerBackendError(.unavailable, "full")
        second.replies.first?.reply.resume(returning: [nil, refusal])
        let answers = await submitted.value
        #expect(answers.count == 2)
        #expect(answers[0] == nil)
        #expect(answers[1]?.reason == "full")
    }

    @Test func closeRefusesNewWorkAndHandsOverWhatIsLeft() async {
        let queue = PublishQueue()
        queue.setLinked(true)
        #expect(queue.offer(entries("left")))
        queue.close()
        #expect(!queue.offer(entries("late")))
        let answers = await queue.submit(entries("late"))
        #expect(answers.count == 1)
        #expect(answers.first??.reason == "the node is stopping")
        #expect((await queue.next())?.entries.map(\.payload) == [Array("left".utf8)])
        #expect(await queue.next() == nil)
    }
}
