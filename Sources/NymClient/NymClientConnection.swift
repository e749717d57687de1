public import Logging
import NIOCore
import NIOPosix
import NIOWebSocket
public import NymbusCrypto
public import NymbusTransport

/// The app's side of the nym-client WebSocket: one long-lived session that survives nym-client
/// restarts and socket drops.
///
/// - Speaks binary frames only (text mode would corrupt binary payloads).
/// - `start()` connects, retrying with capped exponential backoff while the port is closed
///   (nym-client opens it only after reaching its gateway), asks `selfAddress`, and returns when
///   the answer arrived.
/// - Sends are encoded at once and go through a bounded FIFO queue that is flushed to the socket
///   in order; while disconnected they wait there and are flushed after reconnecting. A full
///   queue fails the send with `.queueFull`; nothing is dropped silently on this side. A send
///   returns once its message is queued, not when nym-client has it.
/// - When the socket drops it reconnects forever (until `close()`), asks `selfAddress` again and
///   warns if the address changed.
/// - `error` responses and undecodable frames are logged and counted, never fatal.
/// - Payload bytes are never logged.
public actor NymClientConnection: MixnetTransport {
    /// Every `received` message, in arrival order, for the lifetime of this object (across
    /// reconnects). It finishes after `close()`.
    public nonisolated let inbound: AsyncStream<ReceivedMessage>
    private nonisolated let inboundContinuation: AsyncStream<ReceivedMessage>.Continuation
    /// When each message handed to `inbound` arrived, until its reader handled it (the node
    /// says so after each); at most `maxBufferedInbound` + 1 kept.
    public nonisolated let inboundBacklog: InboundBacklog?
    /// nym-client's `LaneQueueLength` answers. Each answers a request the app made with a
    /// connection id, so a reader that paces its lanes keeps few outstanding; past 4096 the oldest
    /// are dropped and counted (`droppedLaneReportCount`).
    public nonisolated let laneReports: AsyncStream<LaneReport>
    private nonisolated let laneContinuation: AsyncStream<LaneReport>.Continuation

    private let configuration: NymClientConfiguration
    private var logger: Logger
    private let group: any EventLoopGroup

    private enum Lifecycle { case idle, running, closed }
    private var lifecycle = Lifecycle.idle
    private var runTask: Task<Void, Never>?
    private var sleepTask: Task<Void, Never>?

    /// The live channel, while upgraded and open.
    private var channel: (any Channel)?
    /// Counts connections; stale tasks compare against it.
    private var generation = 0
    private var answeredGeneration = -1
    private var queue: SendQueue
    private var pumpTask: Task<Void, Never>?
    /// A connection whose socket refused a write; no more pumping on it.
    private var stalledGeneration = -1
    private var backoff: Backoff

    private var address: Recipient?
    private var readyWaiters: [Int: CheckedContinuation<Result<Void, NymClientError>, Never>] = [:]
    private var nextWaiterID = 0
    private var connectionsEstablished = 0

    /// Whether the WebSocket is upgraded and open right now.
    public var isConnected: Bool { channel != nil }
    /// How many times the connection was re-established after the first one.
    public var reconnectCount: Int { max(0, connectionsEstablished - 1) }
    /// `error` responses received from nym-client.
    public private(set) var errorResponseCount = 0
    /// Frames that did not decode as a nym-client response.
    public private(set) var undecodableFrameCount = 0
    /// Received messages dropped because `inbound` already buffered `maxBufferedInbound`.
    public private(set) var droppedInboundCount = 0
    /// `LaneQueueLength` answers dropped because `laneReports` already buffered 4096.
    public private(set) var droppedLaneReportCount = 0
    /// Messages waiting for the socket.
    public var queuedMessageCount: Int { queue.count }
    /// Data bytes of every received message handed to `inbound` (a consumer that has handled
    /// this many has caught up: quiescence checks compare it with the node's `bytesIn`).
    public private(set) var receivedBytes = 0
    /// Data bytes of the received messages read on the current WebSocket (0 after a reconnect).
    public private(set) var receivedBytesOnConnection = 0
    /// Messages sent again after reconnects because they may have been in flight (`resendWindow`).
    public private(set) var resentCount = 0
    private var recentlyWritten: [(message: [UInt8], at: ContinuousClock.Instant)] = []

    /// Creates an idle connection; nothing happens until `start()` (or a send, which queues).
    public init(configuration: NymClientConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        // Names the nym-client by port only: log lines never carry an IP address, loopback included.
        logger[metadataKey: "nym-client-port"] = "\(configuration.port)"
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup.singleton
        self.queue = SendQueue(capacity: configuration.maxQueuedMessages)
        self.backoff = Backoff(initial: configuration.initialBackoff, maximum: configuration.maxBackoff)
        (inbound, inboundContinuation) = AsyncStream.makeStream(
            of: ReceivedMessage.self, bufferingPolicy: .bufferingOldest(max(1, configuration.maxBufferedInbound)))
        (laneReports, laneContinuation) = AsyncStream.makeStream(of: LaneReport.self, bufferingPolicy: .bufferingNewest(4096))
        inboundBacklog = InboundBacklog(capacity: max(1, configuration.maxBufferedInbound) + 1)
    }

    // MARK: Lifecycle

    /// Connects (retrying while the port is closed), asks for `selfAddress`, and returns once it
    /// is known. Calling it again after that returns at once. Fails with `.closed` after
    /// `close()`, with `.timeout` if `startTimeout` passes first, and with `.notConnected` if the
    /// calling task is cancelled (the connection keeps trying in the background), and with
    /// `.invalidConfiguration` naming a field out of its range (``NymClientConfiguration/validate()``).
    public func start() async throws(NymClientError) {
        switch lifecycle {
        case .closed: throw NymClientError(.closed, "the nym-client connection was closed")
        case .idle:
            try configuration.validate()
            lifecycle = .running
            logger.info("connecting to nym-client")
            runTask = Task { await self.runLoop() }
        case .running: break
        }
        if address != nil { return }
        let id = nextWaiterID
        nextWaiterID += 1
        if let limit = configuration.startTimeout {
            Task {
                try? await Task.sleep(for: limit)
                self.finishWaiter(id, .failure(NymClientError(.timeout, "nym-client was not ready within \(limit)")))
            }
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, NymClientError>, Never>) in
                if Task.isCancelled {
                    continuation.resume(returning: .failure(NymClientError(.notConnected, "start() was cancelled")))
                } else {
                    readyWaiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.finishWaiter(id, .failure(NymClientError(.notConnected, "start() was cancelled"))) }
        }
        try result.get()
    }

    /// This client's Nym address, as nym-client reported it (cached; refreshed on reconnect).
    /// Starts the connection if needed.
    public func selfAddress() async throws(TransportError) -> Recipient {
        if let address { return address }
        do { try await start() } catch { throw error.transportError }
        guard let address else { throw TransportError(.notConnected, "nym-client address unknown") }
        return address
    }

    /// Stops reconnecting, flushes what is queued if connected (bounded by `requestTimeout`),
    /// sends a Close frame, closes the socket, and finishes `inbound`. Later sends fail with
    /// `.closed`.
    public func close() async {
        guard lifecycle != .closed else { return }
        lifecycle = .closed
        sleepTask?.cancel()
        for id in Array(readyWaiters.keys) {
            finishWaiter(id, .failure(NymClientError(.closed, "the nym-client connection was closed")))
        }
        if let channel {
            let timeout = configuration.requestTimeout
            let guardTask = Task {
                try? await Task.sleep(for: timeout)
                try? await channel.close()
            }
            schedulePump()
            await pumpTask?.value
            guardTask.cancel()
            try? await channel.writeAndFlush(WebSocketFraming.closeFrame(allocator: channel.allocator))
            try? await channel.close()
        }
        if !queue.isEmpty {
            logger.warning("closing with unsent messages", metadata: ["count": "\(queue.count)"])
            queue.removeAll()
        }
        await runTask?.value
        inboundContinuation.finish()
        laneContinuation.finish()
        logger.info("nym-client connection closed")
    }

    private func finishWaiter(_ id: Int, _ result: Result<Void, NymClientError>) {
        readyWaiters.removeValue(forKey: id)?.resume(returning: result)
    }

    // MARK: Sending (MixnetTransport)

    /// Plain `send`; returns once queued (see the type's notes).
    public func send(_ message: [UInt8], to recipient: Recipient) async throws(TransportError) {
        try enqueueForTransport(.send(recipient: recipient, data: message, connectionID: nil))
    }

    /// `sendAnonymous` with `replySurbs` reply blocks; returns once queued.
    public func sendAnonymous(_ message: [UInt8], to recipient: Recipient, replySurbs: UInt32)
        async throws(TransportError)
    {
        try enqueueForTransport(.sendAnonymous(recipient: recipient, data: message, replySurbs: replySurbs, connectionID: nil))
    }

    /// `reply` to a sender tag; returns once queued.
    public func reply(_ message: [UInt8], to tag: SenderTag) async throws(TransportError) {
        try enqueueForTransport(.reply(senderTag: tag, data: message, connectionID: nil))
    }

    /// Whether `laneReports` carries nym-client's answers: always, over the WebSocket API.
    public nonisolated var reportsLaneQueueLengths: Bool { true }

    /// `send` on lane `lane` (connection id); nym-client answers with the lane's length.
    public func send(_ message: [UInt8], to recipient: Recipient, lane: UInt64?) async throws(TransportError) {
        try enqueueForTransport(.send(recipient: recipient, data: message, connectionID: lane))
    }

    /// `sendAnonymous` on lane `lane`; nym-client answers with the lane's length.
    public func sendAnonymous(_ message: [UInt8], to recipient: Recipient, replySurbs: UInt32, lane: UInt64?)
        async throws(TransportError)
    {
        try enqueueForTransport(.sendAnonymous(recipient: recipient, data: message, replySurbs: replySurbs, connectionID: lane))
    }

    /// `reply` on lane `lane`; nym-client answers with the lane's length.
    public func reply(_ message: [UInt8], to tag: SenderTag, lane: UInt64?) async throws(TransportError) {
        try enqueueForTransport(.reply(senderTag: tag, data: message, connectionID: lane))
    }

    /// `GetLaneQueueLength`, in order with the sends; the answer comes on `laneReports`.
    public func requestLaneQueueLength(_ lane: UInt64) async throws(TransportError) {
        try enqueueForTransport(.getLaneQueueLength(lane))
    }

    /// `ClosedConnection`: nym-client drops what it has not sent of `lane`. Best effort: with the
    /// send queue full the request is skipped (the lane empties by itself).
    public func closeLane(_ lane: UInt64) async {
        try? enqueueForTransport(.closedConnection(lane))
    }

    /// Queues any request (binary frame) in order with the sends.
    public func submit(_ request: ClientRequest) throws(NymClientError) {
        try enqueue(request)
    }

    /// `enqueue`, failing as the transport seam reports it.
    private func enqueueForTransport(_ request: ClientRequest) throws(TransportError) {
        do { try enqueue(request) } catch { throw error.transportError }
    }

    private func enqueue(_ request: ClientRequest) throws(NymClientError) {
        guard lifecycle != .closed else { throw NymClientError(.closed, "the nym-client connection was closed") }
        let frame = request.encodeBinary()
        guard frame.count <= configuration.maxMessageSize else {
            throw NymClientError(
                .malformedRequest,
                "request of \(frame.count) bytes exceeds nym-client's \(configuration.maxMessageSize)-byte message limit"
            )
        }
        try queue.append(frame)
        schedulePump()
    }

    private func schedulePump() {
        guard pumpTask == nil, let channel, !queue.isEmpty, stalledGeneration != generation else { return }
        let current = generation
        pumpTask = Task { await self.pump(channel, generation: current) }
    }

    /// Writes queued messages in order; a message leaves the queue only once the socket took it.
    private func pump(_ channel: any Channel, generation current: Int) async {
        let maxFrameSize = configuration.maxFrameSize
        while current == generation, self.channel != nil, !queue.isEmpty {
            let batch = queue.peek(64)
            var written: [EventLoopFuture<Void>] = []
            for message in batch {
                var last: EventLoopFuture<Void>?
                for frame in WebSocketFraming.frames(
                    for: message, maxFrameSize: maxFrameSize, allocator: channel.allocator)
                {
                    last = channel.write(frame)
                }
                if let last { written.append(last) }
            }
            channel.flush()
            var done = 0
            for future in written {
                do { try await future.get() } catch { break }
                done += 1
            }
            queue.removeFirst(done)
            rememberWritten(batch.prefix(done))
            if done < batch.count {
                stalledGeneration = current
                logger.debug(
                    "write to nym-client failed; keeping messages queued", metadata: ["queued": "\(queue.count)"])
                break
            }
        }
        pumpTask = nil
        if current == generation { schedulePump() }
    }

    /// Keeps what the socket just accepted for `resendWindow`, bounded by `maxResend`.
    private func rememberWritten(_ messages: ArraySlice<[UInt8]>) {
        guard configuration.resendWindow > .zero, configuration.maxResend > 0, !messages.isEmpty else { return }
        let now = ContinuousClock.now
        recentlyWritten.append(contentsOf: messages.map { ($0, now) })
        if recentlyWritten.count > configuration.maxResend {
            recentlyWritten.removeFirst(recentlyWritten.count - configuration.maxResend)
        }
    }

    /// After a drop: queue again, ahead of the rest, what may have been in flight.
    private func requeueInFlight() {
        let cutoff = ContinuousClock.now - configuration.resendWindow
        let again = recentlyWritten.filter { $0.at >= cutoff }.map(\.message)
        recentlyWritten.removeAll()
        guard !again.isEmpty else { return }
        resentCount += again.count
        queue.prepend(again)
        logger.info("resending messages that may have been in flight", metadata: ["count": "\(again.count)"])
    }

    // MARK: Connection loop

    private func runLoop() async {
        var failures = 0
        var firstFailure = ContinuousClock.now
        var report = UnreachableReport()
        while lifecycle == .running {
            let connection: WebSocketDialer.Connection
            do {
                connection = try await WebSocketDialer.connect(configuration, group: group)
            } catch {
                failures += 1
                if failures == 1 { firstFailure = .now }
                let elapsed = (ContinuousClock.now - firstFailure).seconds
                if report.shouldReport(elapsed: elapsed) {
                    logger.warning(
                        "\(UnreachableReport.message(port: configuration.port, path: configuration.path, elapsed: elapsed, attempts: failures, error: error.reason))")
                } else {
                    logger.debug("nym-client not reachable", metadata: ["attempts": "\(failures)"])
                }
                await sleepBackoff()
                continue
            }
            guard lifecycle == .running else {
                try? await connection.channel.close()
                break
            }
            failures = 0
            report.reset()
            await serve(connection)
            if lifecycle == .running { await sleepBackoff() }
        }
    }

    private func sleepBackoff() async {
        guard lifecycle == .running else { return }
        let delay = backoff.nextDelay()
        let task = Task { _ = try? await Task.sleep(for: .nanoseconds(Int64(delay * 1e9))) }
        sleepTask = task
        await task.value
        sleepTask = nil
    }

    /// Runs one connection until it closes.
    private func serve(_ connection: WebSocketDialer.Connection) async {
        generation += 1
        let current = generation
        channel = connection.channel
        receivedBytesOnConnection = 0
        connectionsEstablished += 1
        if connectionsEstablished > 1 {
            logger.notice(
                "reconnected to nym-client", metadata: ["reconnects": "\(reconnectCount)", "queued": "\(queue.count)"])
        } else {
            logger.info("connected to nym-client")
        }
        // selfAddress goes out first, before the queued messages.
        for frame in WebSocketFraming.frames(
            for: ClientRequest.selfAddress.encodeBinary(), maxFrameSize: configuration.maxFrameSize,
            allocator: connection.channel.allocator)
        {
            connection.channel.writeAndFlush(frame, promise: nil)
        }
        let timeout = configuration.requestTimeout
        let watchdog = Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            self.checkAnswered(current)
        }
        schedulePump()
        for await event in connection.events {
            handle(event)
        }
        // The stream ends when the channel is gone (server closed, reset, or our close()).
        watchdog.cancel()
        if current == generation { channel = nil }
        try? await connection.channel.close()
        await pumpTask?.value
        if lifecycle == .running {
            requeueInFlight()
            logger.warning("lost the nym-client connection; reconnecting", metadata: ["queued": "\(queue.count)"])
        }
    }

    private func checkAnswered(_ current: Int) {
        guard current == generation, answeredGeneration != current, let channel else { return }
        logger.warning("nym-client did not answer selfAddress in time; reconnecting")
        channel.close(promise: nil)
    }

    // MARK: Inbound

    private func handle(_ event: ConnectionEvent) {
        switch event {
        case .binary(let bytes):
            do { handle(try ServerResponse.decodeBinary(bytes)) } catch {
                undecodableFrameCount += 1
                logger.warning(
                    "undecodable frame from nym-client",
                    metadata: ["bytes": "\(bytes.count)", "error": "\(error.reason)"])
            }
        case .text(let text):
            do { handle(try ServerResponse.decodeText(text)) } catch {
                undecodableFrameCount += 1
                logger.warning(
                    "undecodable text frame from nym-client",
                    metadata: ["bytes": "\(text.utf8.count)", "error": "\(error.reason)"])
            }
        case .failure(let description):
            logger.warning("nym-client WebSocket error", metadata: ["error": "\(description)"])
        }
    }

    private func handle(_ response: ServerResponse) {
        switch response {
        case .received(let message):
            receivedBytesOnConnection += message.data.count
            // Recorded before the reader can take it (and say it handled it), withdrawn if dropped.
            inboundBacklog?.arrived(at: .now)
            if case .dropped = inboundContinuation.yield(message) {
                inboundBacklog?.withdrawNewest()
                droppedInboundCount += 1
                logger.warning(
                    "inbound buffer full; dropped a received message",
                    metadata: ["dropped": "\(droppedInboundCount)"])
            } else {
                receivedBytes += message.data.count
            }
        case .selfAddress(let recipient):
            answeredGeneration = generation
            backoff.reset()
            if let address, address != recipient {
                logger.warning(
                    "nym-client address changed after reconnect",
                    metadata: ["old": "\(address)", "new": "\(recipient)"])
            } else if address == nil {
                logger.info("nym-client ready", metadata: ["address": "\(recipient)"])
            }
            address = recipient
            for id in Array(readyWaiters.keys) { finishWaiter(id, .success(())) }
        case .laneQueueLength(let lane, let length):
            if case .dropped = laneContinuation.yield(LaneReport(lane: lane, length: Int(clamping: length))) {
                droppedLaneReportCount += 1
            }
        case .error(let kind, let message):
            errorResponseCount += 1
            logger.warning(
                "nym-client answered with an error",
                metadata: ["kind": "\(kind.prefix)", "message": "\(message)", "count": "\(errorResponseCount)"])
        }
    }
}
