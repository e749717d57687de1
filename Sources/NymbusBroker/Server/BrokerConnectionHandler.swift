import Logging
import NIOCore
import NymbusCrypto

/// One client connection: parses requests, runs them through ``BrokerState`` in order, and
/// keeps the output queue bounded.
///
/// - Commands run one at a time. A command that needs the backend (PUBLISH, `NYMBUS.*`) pauses
///   the connection until the backend answers, so replies keep the order of the requests;
///   reading from the socket is held meanwhile, which bounds the input buffer.
/// - Reading is also held while the channel is not writable (the client is not reading its
///   replies), so a pipelining client that never reads cannot grow its reply queue.
/// - Pushed messages are not held back: when the queued output passes
///   ``BrokerConfiguration/maxOutputBytes`` the client is a slow subscriber. It is removed from
///   every subscription at once, sent a final `-ERR` saying why, and closed when that error has
///   been written or after ``BrokerConfiguration/slowClientGrace``, whichever comes first.
/// - A malformed request gets `-ERR Protocol error: ...` and the connection is closed after it
///   is written, as Redis does.
final class BrokerConnectionHandler: ChannelDuplexHandler, BrokerClientOutput {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase { case open, closing, closed }

    private let state: BrokerState
    private let backend: any BrokerBackend
    private let parser: RESPRequestParser
    private var context: ChannelHandlerContext?
    private var client: BrokerClient?
    private var input = ByteBuffer()
    /// Replies and small pushed frames not yet handed to the channel (see `writeOutput`).
    private var output = ByteBuffer()
    private var phase = Phase.open
    private var awaitingBackend = false
    /// Between `channelRead` and `channelReadComplete`: flushing waits for the end of the event.
    private var reading = false
    private var readHeld = false
    private var flushPending = false
    private var inputClosed = false
    /// The rest of a running EXEC and its command count.
    private var pendingExec: (remaining: ArraySlice<[[UInt8]]>, count: Int)?

    init(state: BrokerState, backend: any BrokerBackend) {
        self.state = state
        self.backend = backend
        self.parser = RESPRequestParser(limits: state.configuration.limits)
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if let client = state.register(output: self) {
            self.client = client
        } else {
            var buffer = context.channel.allocator.buffer(capacity: 48)
            RESPWriter.write(.err("max number of clients reached"), version: .resp2, into: &buffer)
            context.write(wrapOutboundOut(buffer), promise: nil)
            closeAfterWrites()
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closed
        if let client { state.unregister(client) }
        client = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase == .open else { return }
        reading = true
        var bytes = unwrapInboundIn(data)
        input.writeBuffer(&bytes)
        processInput()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Everything this read event brought is answered: one write to each subscriber that got
        // frames and one to this client, rather than one per chunk read.
        reading = false
        flushIfNeeded()
        state.flushFanOut()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client half-closed: answer what it sent, then close (Redis closes on EOF too).
            inputClosed = true
            if !awaitingBackend && phase == .open { closeAfterWrites() }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReadingIfPossible()
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        state.logger.debug("client connection error", metadata: ["client": "\(client?.id ?? 0)", "error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: - Outbound

    func read(context: ChannelHandlerContext) {
        if awaitingBackend || phase != .open || !context.channel.isWritable {
            readHeld = true
        } else {
            context.read()
        }
    }

    func send(_ buffer: ByteBuffer) {
        guard phase == .open, let context else { return }
        flushPending = true
        if buffer.readableBytes <= Self.copyLimit {
            var buffer = buffer
            output.writeBuffer(&buffer)
            // Small frames are checked when the batch is flushed (bounded by the batch size).
            if output.readableBytes > state.configuration.maxOutputBytes { checkOutputLimit(context) }
        } else {
            // A large frame (shared by every subscriber of a fan-out) is written as it is.
            writeOutput(context)
            context.write(wrapOutboundOut(buffer), promise: nil)
            checkOutputLimit(context)
        }
    }

    func appendReply(_ write: (inout ByteBuffer) -> Void) {
        guard phase == .open else { return }
        write(&output)
        flushPending = true
        // The channel's queue is checked when the batch is flushed; this buffer, now.
        if output.readableBytes > state.configuration.maxOutputBytes, let context { checkOutputLimit(context) }
    }

    func flush() {
        flushIfNeeded()
    }

    func close() -> EventLoopFuture<Void>? {
        guard let context, phase != .closed else { return nil }
        phase = .closing
        return context.close()
    }

    // MARK: - Commands

    private func processInput() {
        guard let client else { return }
        while phase == .open && !awaitingBackend {
            if var exec = pendingExec {
                // EXEC in progress: run the next queued command, replies captured.
                if let arguments = exec.remaining.popFirst() {
                    pendingExec = exec
                    carryOut(state.execute(arguments, from: client), client: client)
                } else {
                    pendingExec = nil
                    client.endExec(commandCount: exec.count)
                }
                continue
            }
            // A run of pipelined PUBLISH commands: recognised and parsed here, once each, and
            // handed to the backend as one batch. Anything else goes through the command table.
            if state.acceptsPlainPublish(from: client), let batch = takePublishRun(publisher: UInt64(client.id)) {
                state.stats.commandsProcessed += UInt64(batch.count)
                startPublish(batch, client: client)
                continue
            }
            // Pipelined plain XADDs (`XADD key * f v ...`): recognised and parsed here, once each,
            // and appended without the argument list and the command table. Their replies wait
            // for the store as any stream command's do.
            if state.acceptsPlainXAdd(from: client), takeXAddRun(client) { continue }
            let next: [[UInt8]]?
            do {
                next = try parser.next(&input)
            } catch {
                state.recordProtocolError(client, error)
                client.reply(.error(error.replyText))
                state.unregister(client)
                closeAfterWrites()
                break
            }
            guard let arguments = next else { break }
            carryOut(state.execute(arguments, from: client), client: client)
        }
        if input.readableBytes == 0 || input.readerIndex > 64 * 1024 { input.discardReadBytes() }
        if !reading { flushIfNeeded() }  // while reading, channelReadComplete flushes
        if inputClosed && !awaitingBackend && pendingExec == nil && phase == .open { closeAfterWrites() }
    }

    private func carryOut(_ outcome: CommandOutcome, client: BrokerClient) {
        switch outcome {
        case .done:
            break
        case .close:
            state.unregister(client)
            closeAfterWrites()
        case .publish(let channel, let payload):
            startPublish([BrokerMessage(channel: channel, payload: payload, publisher: UInt64(client.id))], client: client)
        case .nymbus(let arguments):
            startNymbus(client: client, arguments: arguments)
        case .exec(let commands):
            client.beginExec()
            pendingExec = (commands[...], commands.count)
        case .block(let timeout):
            startBlock(client: client, timeoutMilliseconds: timeout)
        }
    }

    /// A stream read is parked: hold this connection (like a backend call) until the broker
    /// serves it (an XADD woke it) or its timeout passes. The event loop is never blocked.
    private func startBlock(client: BrokerClient, timeoutMilliseconds: Int64) {
        guard let context else { return }
        awaitingBackend = true
        let loop = context.eventLoop
        var timer: Scheduled<Void>?
        client.resume = { [weak self] in
            timer?.cancel()
            client.resume = nil
            // Go on in a later turn: the caller is in the middle of another client's command.
            loop.assumeIsolated().execute {
                guard let self else { return }
                self.flushPending = true
                self.backendFinished()
            }
        }
        if timeoutMilliseconds > 0 {
            let state = self.state
            timer = loop.assumeIsolated().scheduleTask(in: .milliseconds(timeoutMilliseconds)) {
                state.blockTimedOut(client)
            }
        }
    }

    /// Frames up to this size are copied into the connection's output buffer; larger ones are
    /// written as they are, so a big fan-out frame is shared, not copied per subscriber.
    static let copyLimit = 4096
    /// Smallest and largest starting capacity of the output buffer.
    static let outputCapacity = 1024
    static let maxOutputCapacity = 64 * 1024

    /// Most messages handed to the backend in one batch, and most payload bytes.
    static let maxBatchMessages = 256
    static let maxBatchBytes = 4 * 1024 * 1024

    /// Takes the well-formed PUBLISH commands at the head of the input (at most
    /// ``maxBatchMessages`` and about ``maxBatchBytes``), or nil when the next request is not one;
    /// then nothing is consumed and the general parser handles it, errors included.
    private func takePublishRun(publisher: UInt64) -> [BrokerMessage]? {
        // The input is taken out of `self` for the loop: locals need no run-time exclusivity
        // checks, which cost a PUBLISH more than parsing it.
        var pending = ByteBuffer()
        swap(&pending, &input)
        defer { swap(&pending, &input) }
        let limits = parser.limits
        guard let (channel, payload) = RESPRequestParser.parsePublish(&pending, limits: limits) else { return nil }
        var batch = [BrokerMessage(channel: channel, payload: payload, publisher: publisher)]
        var batchBytes = payload.count
        var lastChannel = channel
        while batch.count < Self.maxBatchMessages, batchBytes < Self.maxBatchBytes,
            let (nextChannel, nextPayload) = RESPRequestParser.parsePublish(&pending, limits: limits, reusing: lastChannel)
        {
            lastChannel = nextChannel
            batch.append(BrokerMessage(channel: nextChannel, payload: nextPayload, publisher: publisher))
            batchBytes += nextPayload.count
        }
        return batch
    }

    /// Appends the plain XADD commands at the head of the input (at most ``maxBatchMessages``);
    /// false when the next request is not one (nothing is consumed, the general parser takes it).
    private func takeXAddRun(_ client: BrokerClient) -> Bool {
        var pending = ByteBuffer()
        swap(&pending, &input)
        defer { swap(&pending, &input) }
        let limits = parser.limits
        var lastKey: [UInt8]?
        var taken = 0
        while taken < Self.maxBatchMessages, phase == .open,
            let (key, fields) = RESPRequestParser.parseXAdd(&pending, limits: limits, reusing: lastKey)
        {
            lastKey = key
            state.plainXAdd(key: key, fields: fields, from: client)
            taken += 1
        }
        return taken > 0
    }

    /// Hands a batch to the backend: answered at once when the backend can, otherwise the
    /// connection waits (reading held) for its answer.
    private func startPublish(_ batch: [BrokerMessage], client: BrokerClient) {
        guard let context else { return }
        if let errors = backend.publishImmediately(batch) {
            finishPublish(batch, errors: errors, client: client)
            return
        }
        awaitingBackend = true
        let backend = self.backend
        let outcome = context.eventLoop.makeFutureWithTask { await backend.publish(batch) }
        outcome.assumeIsolated().whenSuccess { errors in
            self.finishPublish(batch, errors: errors, client: client)
            self.backendFinished()
        }
    }

    private func finishPublish(_ messages: [BrokerMessage], errors: [BrokerBackendError?], client: BrokerClient) {
        // Outside EXEC each reply (the receiver count, or the refusal) is written straight into
        // this connection's output. A client that is not subscribed gets no fan-out frames, so
        // its output can be taken out of `self` for the loop (no run-time exclusivity checks).
        guard !client.needsGeneralPublishPath && phase == .open else {
            for (index, message) in messages.enumerated() {
                state.finishPublish(
                    client: client, channel: message.channel, payload: message.payload, error: Self.error(errors, index))
            }
            if !reading { state.flushFanOut() }
            return
        }
        let isolated = !client.isSubscribed
        let version = client.protocolVersion
        var out = ByteBuffer()
        if isolated { swap(&out, &output) }
        /// Writes a reply after whatever this client was sent meanwhile.
        func reply(_ value: RESPValue) {
            if isolated {
                RESPWriter.write(value, version: version, into: &out)
            } else {
                RESPWriter.write(value, version: version, into: &output)
            }
        }
        var run = BrokerState.FanOutRun()
        var published = 0
        for (index, message) in messages.enumerated() {
            if let error = Self.error(errors, index) {
                reply(state.rejectPublish(client: client, error: error))
            } else {
                // Frames for the client itself (a subscribed publisher) come before the reply.
                let receivers = state.fanOut(channel: message.channel, payload: message.payload, run: &run)
                state.recordPublished(channel: message.channel, payload: message.payload)
                published += 1
                reply(.integer(Int64(receivers)))
            }
        }
        if isolated { swap(&out, &output) }
        state.finishPublishRun(run, published: published)
        flushPending = true
        if !reading { state.flushFanOut() }  // while reading, channelReadComplete flushes
    }

    private static func error(_ errors: [BrokerBackendError?], _ index: Int) -> BrokerBackendError? {
        index < errors.count ? errors[index] : BrokerBackendError(.failed, "backend gave no answer")
    }

    private func startNymbus(client: BrokerClient, arguments: [[UInt8]]) {
        guard let context else { return }
        awaitingBackend = true
        let backend = self.backend
        let outcome = context.eventLoop.makeFutureWithTask { () async -> Result<RESPValue, BrokerBackendError> in
            do throws(BrokerBackendError) {
                return .success(try await backend.nymbusCommand(arguments))
            } catch {
                return .failure(error)
            }
        }
        outcome.assumeIsolated().whenSuccess { result in
            self.state.finishNymbus(client: client, result: result)
            self.backendFinished()
        }
    }

    private func backendFinished() {
        awaitingBackend = false
        processInput()
        resumeReadingIfPossible()
    }

    // MARK: - Flow control and closing

    private func flushIfNeeded() {
        guard flushPending || client?.heldReplies != nil, let context else { return }
        // Stream replies wait for the store: one transaction at the end of this event-loop tick
        // for every connection's changes (group commit), which then flushes each of them.
        if let client, client.heldReplies != nil { state.commitAtEndOfTick(on: context.eventLoop) }
        guard flushPending else { return }
        flushPending = false
        writeOutput(context, commitStreams: false)
        context.flush()
        checkOutputLimit(context)
    }

    /// Hands the replies and small frames gathered since the last write to the channel as one
    /// write: a pipelining client's replies cost one pipeline traversal per batch, not per reply.
    /// - Parameter commitStreams: store held stream changes first and write their replies too
    ///   (a large frame or a close must not overtake them); false leaves them to the tick's
    ///   group commit.
    private func writeOutput(_ context: ChannelHandlerContext, commitStreams: Bool = true) {
        if commitStreams, let client, client.heldReplies != nil { state.commitPendingStreams(flushing: client) }
        let used = output.readableBytes
        guard used > 0 else { return }
        context.write(wrapOutboundOut(output), promise: nil)
        // The next batch is likely the size of this one: start there rather than grow again.
        output = context.channel.allocator.buffer(capacity: min(max(Self.outputCapacity, used), Self.maxOutputCapacity))
    }

    /// Disconnects the client when more than the output limit waits for it: gathered here and
    /// queued in the channel. Below the channel's write-buffer high-water mark (64 KiB) the
    /// channel is writable and far from the limit, so its exact (slower) count is only asked for
    /// above it.
    private func checkOutputLimit(_ context: ChannelHandlerContext) {
        var queued = output.readableBytes
        if !context.channel.isWritable {
            queued += (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        }
        if queued > state.configuration.maxOutputBytes { disconnectSlowClient(queuedBytes: queued) }
    }

    private func resumeReadingIfPossible() {
        guard readHeld, !awaitingBackend, phase == .open, let context, context.channel.isWritable else { return }
        readHeld = false
        context.read()
    }

    /// Stops taking commands and closes once everything queued is written, or after the grace
    /// period if the client does not read.
    private func closeAfterWrites() {
        guard phase == .open, let context else { return }
        writeOutput(context)
        phase = .closing
        let channel = context.channel
        let grace = TimeAmount.nanoseconds(Self.nanoseconds(state.configuration.slowClientGrace))
        let timer = context.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            timer.cancel()
            channel.close(promise: nil)
        }
    }

    private func disconnectSlowClient(queuedBytes: Int) {
        guard phase == .open, let client, let context else { return }
        let limit = state.configuration.maxOutputBytes
        var buffer = context.channel.allocator.buffer(capacity: 160)
        RESPWriter.write(
            .err(
                "slow subscriber: more than \(limit) bytes were queued for this client, "
                    + "so it is disconnected; read faster or ask for a larger broker output limit"),
            version: client.protocolVersion, into: &buffer)
        writeOutput(context)
        context.write(wrapOutboundOut(buffer), promise: nil)
        state.recordSlowClient(client, queuedBytes: queuedBytes)
        closeAfterWrites()
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let clampedSeconds = min(max(seconds, 0), 3600 * 24)
        return clampedSeconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

@available(*, unavailable)
extension BrokerConnectionHandler: Sendable {}
