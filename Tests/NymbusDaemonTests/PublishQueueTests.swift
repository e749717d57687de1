import NymbusBroker
import NymbusPubSub
import NymbusTestSupport
import Synchronization
import Testing

@testable import NymbusDaemon

/// The queue between the broker's event loop and the topic layer: what it takes at once, who
/// waits for room and in which order, when a waiting publisher gives up, and closing.
@Suite struct PublishQueueTests {
    private let topic = Topic.named("queue")

    private func entries(_ payloads: String...) -> [PublishQueue.Entry] {
        payloads.map { PublishQueue.Entry(topic: topic, channel: Array("queue".utf8), payload: Array($0.utf8)) }
    }

    private func texts(_ round: [PublishQueue.Entry]?) -> [String]? {
        round?.map { String(decoding: $0.payload, as: UTF8.self) }
    }

    @Test func offerTakesWhatFitsWithOrWithoutAPeer() async {
        let queue = PublishQueue(maxMessages: 4, maxBytes: 100)
        #expect(queue.offer(entries("a", "b", "c")))
        #expect(!queue.offer(entries("d", "e")))  // 5 > 4 messages
        #expect(queue.offer(entries("d")))
        #expect(texts(await queue.next()) == ["a", "b", "c", "d"])
        // Bytes count too; a run larger than the limit is still taken by an empty queue.
        #expect(queue.offer([PublishQueue.Entry(topic: topic, channel: [1], payload: Array(repeating: 7, count: 150))]))
        #expect(!queue.offer(entries("x")))
        #expect((await queue.next())?.first?.payload.count == 150)
    }

    @Test func aWaitingPublisherGoesBeforeLaterOffers() async throws {
        let queue = PublishQueue(maxMessages: 2, maxBytes: 100)
        #expect(queue.offer(entries("a", "b")))
        let waiting = Task { await queue.enqueue(entries("c", "d")) }
        // The publisher waits for room; meanwhile an offer may not overtake it.
        let waitingSeen = await eventually(timeout: .seconds(10)) { queue.publishersWaiting == 1 }
        #expect(waitingSeen)
        #expect(!queue.offer(entries("e")))
        #expect(texts(await queue.next()) == ["a", "b"])
        #expect(await waiting.value)
        #expect(queue.publishersWaiting == 0)
        #expect(texts(await queue.next()) == ["c", "d"])
        #expect(queue.offer(entries("e")))
    }

    @Test func aWaitingPublisherGivesUpOnlyWhenAskedAndTakesNothing() async {
        let queue = PublishQueue(maxMessages: 1, maxBytes: 100)
        #expect(queue.offer(entries("a")))
        let asked = Atomic<Int>(0)
        let accepted = await queue.enqueue(entries("b"), recheck: .milliseconds(1)) {
            asked.add(1, ordering: .relaxed).newValue >= 3  // gives up on the third check
        }
        #expect(!accepted)
        #expect(asked.load(ordering: .relaxed) == 3)
        #expect(queue.waiting == 1)
        #expect(texts(await queue.next()) == ["a"])
    }

    @Test func closeRefusesNewWorkAndHandsOverWhatIsLeft() async {
        let queue = PublishQueue()
        #expect(queue.offer(entries("left")))
        queue.close()
        #expect(!queue.offer(entries("late")))
        #expect(await queue.enqueue(entries("late")) == false)
        #expect(texts(await queue.next()) == ["left"])
        #expect(await queue.next() == nil)
    }
}
