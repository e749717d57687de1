import Foundation
import Logging
import NymbusBroker
import NymbusCrypto
import NymbusNode
import NymbusPubSub

/// Sends what local XADDs stored in the outbox (`outbox` table of `streams.sqlite`), oldest
/// first, each exactly once as far as any node can tell:
///
/// 1. the object is sealed and its bytes are stored in the row before anything is sent;
/// 2. it is handed to the topic layer (flooded, or held while no peer is linked) and the row is
///    marked sent;
/// 3. the row is deleted ``linger`` after it was sent: handing an object over does not mean it
///    left the process (it may wait in a link's queue), so a row stays until it surely did.
///
/// After a restart every row still there is sent again: never-sent rows for the first time,
/// sent ones as the same bytes, so the same message id, which every node that got the first
/// copy drops as seen (the seen cache holds ids 20 minutes, far longer than ``linger``). Rows for
/// a channel the node can no longer name (a private topic it left) are dropped with a warning
/// and counted.
actor StreamOutbox {
    private let store: SQLiteStreamStore
    private let pubsub: PubSub<Node>
    private let topic: @Sendable ([UInt8]) throws(BrokerBackendError) -> Topic
    private let logger: Logger
    private let wake: AsyncStream<Void>.Continuation
    private var task: Task<Void, Never>?
    private var cleanup: Task<Void, Never>?
    /// Objects that left (or wait in the topic layer's held queue for a peer).
    private(set) var sent = 0
    /// Rows dropped because their channel no longer names a topic this node can publish to.
    private(set) var dropped = 0
    /// Rows waiting now (as of the last round).
    private(set) var waiting = 0
    /// How long a sent row is kept (and sent again after a restart) before it is deleted.
    static let linger: Int64 = 60
    /// Whether the rows a previous run left were sent again.
    private var resentAfterStart = false
    private var resendCursor: Int64 = 0

    init(
        store: SQLiteStreamStore, pubsub: PubSub<Node>, logger: Logger,
        topic: @escaping @Sendable ([UInt8]) throws(BrokerBackendError) -> Topic
    ) {
        self.store = store
        self.pubsub = pubsub
        self.topic = topic
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wake = continuation
        self.signals = stream
    }

    private let signals: AsyncStream<Void>

    /// Starts draining (also what a previous run left behind).
    func start() {
        guard task == nil else { return }
        let signals = self.signals
        task = Task { [weak self] in
            guard let self else { return }
            await self.drain()
            for await _ in signals {
                await self.drain()
            }
        }
    }

    /// New rows were stored (called from the broker's event loop).
    nonisolated func signal() {
        wake.yield()
    }

    func stop() async {
        cleanup?.cancel()
        wake.finish()
        await task?.value
        task = nil
    }

    /// Sends every row now in the outbox; on a failure that may pass (no room in the held queue)
    /// the row stays and the next signal, or a retry a second later, tries again.
    private func drain() async {
        // Only once what a previous run left was sent again: a row it sent may never have left.
        if resentAfterStart { try? store.pruneOutbox(sentBefore: Int64(Date().timeIntervalSince1970) - Self.linger) }
        while true {
            let rows: [SQLiteStreamStore.OutboxRow]
            do {
                // The first rounds after a start also send again what was sent before the stop.
                rows = try store.outboxRows(
                    limit: 64, after: resentAfterStart ? 0 : resendCursor, includingSent: !resentAfterStart)
            } catch {
                logger.error("cannot read the stream outbox", metadata: ["error": "\(error.reason)"])
                return
            }
            guard !rows.isEmpty else {
                if !resentAfterStart {
                    resentAfterStart = true
                    continue
                }
                waiting = 0
                scheduleCleanup()
                return
            }
            for row in rows {
                guard await send(row) else {
                    // Held queue full (no peer for a long time): try again shortly.
                    try? await Task.sleep(for: .seconds(1))
                    wake.yield()
                    return
                }
                if !resentAfterStart { resendCursor = row.sequence }
            }
            waiting = (try? store.outboxWaiting()) ?? waiting
        }
    }

    /// Wakes the drainer once sent rows are due for deletion.
    private func scheduleCleanup() {
        guard cleanup == nil else { return }
        cleanup = Task { [weak self] in
            try? await Task.sleep(for: .seconds(StreamOutbox.linger + 1))
            await self?.cleanupDone()
        }
    }

    private func cleanupDone() {
        cleanup = nil
        wake.yield()
    }

    private func send(_ row: SQLiteStreamStore.OutboxRow) async -> Bool {
        let target: Topic
        do { target = try topic(row.item.channel) } catch {
            logger.warning(
                "dropping an outbox entry: its channel names no topic this node can publish to",
                metadata: ["reason": "\(error.reason)"])
            dropped += 1
            try? store.removeOutbox(row.sequence)
            return true
        }
        do {
            // The XADD connection's tag and the entry's number, stored with the row at XADD time:
            // a row sealed (or sealed again) after a restart continues its publisher's run.
            let order = row.item.order.map { [PublisherRun(tag: $0.tag, number: $0.number, count: 1)] } ?? []
            var object: TopicObject
            if let sealed = row.sealed, let stored = try? TopicObject(bytes: sealed) {
                object = stored
            } else {
                object = try await pubsub.sealObject(row.item.payload, type: row.item.objectType, to: target, order: order)
                try store.sealOutbox(row.sequence, object: object.bytes)
            }
            let (_, used) = try await pubsub.publishSealed(object, payload: row.item.payload, to: target, order: order)
            try store.markOutboxSent(row.sequence, object: used.bytes, now: Int64(Date().timeIntervalSince1970))
            sent += 1
            return true
        } catch let error as PubSubError {
            if error.code == .queueFull { return false }
            logger.warning("dropping an outbox entry the topic layer refused", metadata: ["reason": "\(error.reason)"])
            dropped += 1
            try? store.removeOutbox(row.sequence)
            return true
        } catch {
            logger.error("stream outbox write failed", metadata: ["error": "\(error)"])
            return false
        }
    }
}
