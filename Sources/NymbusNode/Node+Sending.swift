import Logging
import NymbusTransport
import NymbusCrypto
import NymbusWire

/// Handing messages to nym-client at the pace it can carry (spec/node.md §13).
///
/// Every link has its own lane (a nym-client connection id) and a `LinkOutbox`. A message for an
/// established or half-open link waits in that outbox and goes to nym-client only while the lane
/// holds fewer than `laneWindow` packets, as nym-client's `LaneQueueLength` answers tell: so
/// nym-client's queue stays small, control messages overtake objects, and an object that a link
/// cannot take yet waits in a bounded queue or is refused there (counted, left to repair). One
/// pump task hands messages over, so each lane's requests reach nym-client in the order the
/// outbox counted them. A `bye` for a link already gone, and anything sent while nym-client
/// reports no lanes, goes straight out on the general lane.
extension Node {
    /// Queues one packet of `fx` for its link, or sends it at once when it belongs to no link.
    /// Returns whether it was queued or sent.
    func dispatch(_ packet: Effects.Packet) async -> Bool {
        guard let id = packet.session, sessions[id] != nil, transport.reportsLaneQueueLengths else {
            return await sendNow(packet, lane: nil)
        }
        let item = LinkOutbox.Item(
            bytes: packet.bytes, surbs: packet.surbs, command: packet.command, packets: packets(of: packet),
            catchUp: packet.catchUp)
        _ = laneID(for: id)
        let result = outboxes[id, default: LinkOutbox()].push(
            item, bulkLimit: configuration.linkQueueLimitPackets, messageLimit: Self.linkQueueMessageLimit)
        switch result {
        case .queued:
            break
        case .queuedDroppingOldest:
            statistics.messagesDroppedQueueFull += 1
            logQueueFullOnce(id, objects: false)
        case .refused:
            let isObject = item.priority.isObject
            if item.priority == .backfill {
                statistics.catchUpRefusedLinkFull += 1
            } else if isObject {
                statistics.objectsRefusedLinkFull += 1
            } else {
                statistics.messagesDroppedQueueFull += 1
            }
            logQueueFullOnce(id, objects: isObject)
            return false
        }
        schedulePump()
        return true
    }

    /// Most control, and most repair, messages one link's outbox holds. Honest traffic never comes
    /// near it (a handshake, a ping per probe, one `inv` per heartbeat); a link that stopped
    /// draining while its peer keeps asking (pongs to a ping flood) would otherwise grow without
    /// bound. A new control message is refused past it; repair drops its oldest (it repeats itself).
    static var linkQueueMessageLimit: Int { 256 }

    /// Logs, once per link, that its outbox is shedding load (counters tell the rest).
    private func logQueueFullOnce(_ id: SessionID, objects: Bool) {
        guard linkFullLogged.insert(id).inserted else { return }
        if objects {
            logger.warning(
                "a link cannot take objects as fast as they come; later ones wait for repair",
                metadata: [
                    "peer": "\(PeerID(id))", "queued-packets": "\(outboxes[id]?.objectPackets ?? 0)",
                    "limit": "\(configuration.linkQueueLimitPackets)",
                ])
        } else {
            logger.warning(
                "a link's control or repair queue is full; messages are dropped until it drains",
                metadata: ["peer": "\(PeerID(id))", "limit": "\(Self.linkQueueMessageLimit)"])
        }
    }

    /// Packets nym-client needs for `packet` on its path (NYM-CLIENT.md §6).
    func packets(of packet: Effects.Packet) -> Int {
        guard let id = packet.session, let session = sessions[id] else {
            return NymPacketSizes.sendPackets(dataCount: packet.bytes.count)
        }
        switch session.path {
        case .visible: return NymPacketSizes.sendPackets(dataCount: packet.bytes.count)
        case .anonymousOutbound:
            return NymPacketSizes.anonymousPackets(dataCount: packet.bytes.count, surbs: Int(packet.surbs))
        case .anonymousInbound: return NymPacketSizes.replyPackets(dataCount: packet.bytes.count)
        }
    }

    /// The lane of session `id`, made on first use.
    func laneID(for id: SessionID) -> UInt64 {
        if let lane = lanes[id] { return lane }
        let lane = nextLane
        nextLane &+= 1
        if nextLane == 0 { nextLane = 1 }
        lanes[id] = lane
        laneSessions[lane] = id
        return lane
    }

    /// Forgets a closed link's outbox and lane; nym-client drops what it has not sent of the lane.
    func dropOutbox(of id: SessionID, into fx: inout Effects) {
        if var outbox = outboxes.removeValue(forKey: id) {
            statistics.messagesLeftAtClose += outbox.removeAll()
        }
        linkFullLogged.remove(id)
        if let lane = lanes.removeValue(forKey: id) {
            laneSessions[lane] = nil
            fx.closedLanes.append(lane)
        }
        wakeRoomWaiters()
    }

    /// What became of a message handed to nym-client.
    enum SendOutcome {
        case sent
        /// Not taken, for now (its send queue is full): try again later.
        case later
        /// Not taken and never will be (closed transport, a request nym-client cannot carry).
        case refused
    }

    /// Sends one message to nym-client now; counts it, or counts the refusal.
    @discardableResult
    func sendNow(_ packet: Effects.Packet, lane: UInt64?) async -> Bool {
        await send(packet, lane: lane) == .sent
    }

    func send(_ packet: Effects.Packet, lane: UInt64?) async -> SendOutcome {
        do {
            switch packet.path {
            case .visible(let address):
                try await transport.send(packet.bytes, to: address, lane: lane)
            case .anonymousOutbound(let address):
                try await transport.sendAnonymous(packet.bytes, to: address, replySurbs: packet.surbs, lane: lane)
            case .anonymousInbound(let tag):
                try await transport.reply(packet.bytes, to: tag, lane: lane)
            }
            statistics.messagesOut[packet.command, default: 0] += 1
            statistics.bytesOut += packet.bytes.count
            transportFullLogged = false
            return .sent
        } catch {
            if error.code == .queueFull, lane != nil {
                // The WebSocket queue is full (nym-client unreachable for a while): the message
                // stays at the head of its outbox. Logged once per episode.
                statistics.sendRetries += 1
                if !transportFullLogged {
                    transportFullLogged = true
                    logger.warning("nym-client is not taking messages; links' messages wait in their outboxes")
                }
                return .later
            }
            statistics.sendFailures += 1
            logger.warning(
                "nym-client refused a message", metadata: ["command": "\(packet.command)", "error": "\(error)"])
            return .refused
        }
    }

    // MARK: - The pump

    func schedulePump() {
        pumpRequested = true
        guard pumpTask == nil else { return }
        pumpTask = Task { [weak self] in await self?.runPump() }
    }

    /// Hands every outbox what its lane can take and asks nym-client about lanes that are full
    /// with messages still waiting. Runs again at once when an answer arrives (`laneReported`),
    /// and after `lanePollInterval` while messages wait, whichever comes first.
    private func runPump() async {
        var waiting = false
        while pumpRequested, !stopping {
            pumpRequested = false
            waiting = false
            let at = now()
            for id in Array(outboxes.keys) {
                guard outboxes[id]?.isEmpty == false, let session = sessions[id],
                    // Taken out while it changes (no await until it is back), so its queues are
                    // changed in place rather than copied on every pass.
                    var outbox = outboxes.removeValue(forKey: id)
                else { continue }
                let lane = laneID(for: id)
                if outbox.expireAnswers(olderThan: Self.laneAnswerTimeout, now: at) {
                    statistics.laneAnswersLost += 1
                }
                let taken = outbox.take(window: configuration.laneWindow, now: at)
                var query: UInt64?
                if !outbox.isEmpty, !outbox.isQuerying { query = outbox.querying(now: at) }
                if !outbox.isEmpty { waiting = true }
                outboxes[id] = outbox
                for (item, sequence) in taken {
                    let packet = Effects.Packet(
                        session: id, path: session.path, bytes: item.bytes, surbs: item.surbs, command: item.command)
                    switch await send(packet, lane: lane) {
                    case .sent: break
                    case .later:
                        outboxes[id]?.failed(sequence, item: item)
                        waiting = true
                    case .refused:
                        outboxes[id]?.failed(sequence, item: nil)
                    }
                }
                if let query {
                    do { try await transport.requestLaneQueueLength(lane) } catch {
                        outboxes[id]?.failed(query, item: nil)
                    }
                }
            }
            wakeRoomWaiters()
        }
        pumpTask = nil
        if waiting, !stopping, pollTask == nil {
            let interval = configuration.lanePollInterval
            pollTask = Task { [weak self] in
                try? await Task.sleep(for: interval)
                await self?.pollDue()
            }
        }
    }

    private func pollDue() {
        pollTask = nil
        schedulePump()
    }

    /// nym-client's answer about `lane` arrived.
    func laneReported(_ report: LaneReport) {
        guard let id = laneSessions[report.lane], outboxes[id] != nil else { return }
        outboxes[id]?.answered(length: report.length)
        if outboxes[id]?.isEmpty == false { schedulePump() }
    }

    /// How long an answer may be missing before the lane is asked again (a reconnect lost it).
    static var laneAnswerTimeout: Double { 5 }

    // MARK: - Room for new objects

    /// Live object packets waiting in every outbox (catch-up answers wait behind them and do not
    /// slow publishers).
    var queuedObjectPackets: Int { outboxes.values.reduce(0) { $0 + $1.bulkPackets } }

    /// How many object packets may wait before a publisher has to: `linkQueuePackets` per
    /// established link, so one stuck link (which refuses objects past its own bound) cannot
    /// stop publishing while the others drain.
    var admissionLimit: Int {
        configuration.linkQueuePackets * max(1, sessions.values.filter(\.isEstablished).count)
    }

    /// Returns once the links have room for more objects: how a publisher is slowed to the pace
    /// nym-client can carry instead of having its messages dropped.
    public func waitForSendRoom() async {
        while !stopping, !sendWaitersReleased, queuedObjectPackets >= admissionLimit {
            statistics.publishWaits += 1
            await withCheckedContinuation { roomWaiters.append($0) }
        }
    }

    /// Waits until every outbox is empty or `timeout` passed (a clean stop hands nym-client what
    /// was accepted before saying `bye`); returns the messages still waiting.
    @discardableResult
    public func drainOutboxes(timeout: Duration) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while sendQueues.messages > 0, ContinuousClock.now < deadline, !stopping {
            try? await Task.sleep(for: configuration.lanePollInterval)
        }
        return sendQueues.messages
    }

    /// Lets every publisher go, now and from now on (the node's owner is shutting down).
    public func releaseSendWaiters() {
        sendWaitersReleased = true
        wakeRoomWaiters()
    }

    func wakeRoomWaiters() {
        guard !roomWaiters.isEmpty, stopping || sendWaitersReleased || queuedObjectPackets < admissionLimit
        else { return }
        let waiters = roomWaiters
        roomWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// What waits to be sent: messages and object packets in the outboxes, and packets nym-client
    /// holds in the links' lanes as last reported.
    public var sendQueues: SendQueueDepths {
        var depths = SendQueueDepths()
        for outbox in outboxes.values {
            depths.messages += outbox.count
            depths.objectPackets += outbox.objectPackets
            depths.nymClientPackets += outbox.inClient
        }
        depths.publishersWaiting = roomWaiters.count
        return depths
    }
}

/// The depths of a node's send queues, for `NYMBUS.STATUS`.
public struct SendQueueDepths: Sendable, Equatable {
    /// Messages waiting in the links' outboxes.
    public var messages = 0
    /// Object packets among them (bounded per link by `linkQueuePackets`).
    public var objectPackets = 0
    /// Packets nym-client holds in the links' lanes (kept under `laneWindow` per link).
    public var nymClientPackets = 0
    /// Publishers waiting for room.
    public var publishersWaiting = 0

    public init() {}
}
