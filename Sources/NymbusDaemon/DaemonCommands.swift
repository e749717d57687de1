import NymClient
import NymbusCrypto
import NymbusBroker
import NymbusNode
import NymbusPubSub
import NymbusWire

/// The counters of the path between the broker and the topic layer, for `NYMBUS.STATUS`.
struct PublishPathCounters: Sendable {
    /// Publishes in the ``PublishQueue`` and publishers waiting for room there.
    var queueWaiting = 0
    var publishersWaiting = 0
    /// Accepted publishes the topic layer then refused (``PublishDrainer``).
    var publishesLost = 0
    /// Publishes refused because no peer was linked for too long (``TopicBridge``).
    var publishesRefusedNoPeer = 0
    /// Streams kept and stream entry objects that did not decode (``SubscriptionReconciler``).
    var streams = 0
    var streamEntriesMalformed = 0
    /// The stream outbox (``StreamOutbox``), when the node has a data directory.
    var outbox: (waiting: Int, sent: Int, dropped: Int)?
}

/// `NYMBUS.PEERS` and `NYMBUS.STATUS`: what the node is doing, for `nymbus status` and scripts.
/// Never includes an IP address: peers are shown by Nym address (visible) or as hidden.
/// `NYMBUS.STATUS` is built here and only here.
enum DaemonCommands {
    static func run(
        _ arguments: [[UInt8]], transport: NymClientConnection, node: Node, pubsub: PubSub<Node>,
        broker: BrokerServer? = nil, publishPath: (@Sendable () async -> PublishPathCounters)? = nil
    ) async throws(BrokerBackendError) -> RESPValue? {
        switch String(decoding: arguments.first ?? [], as: UTF8.self) {
        case "NYMBUS.PEERS":
            guard arguments.count == 1 else { throw BrokerBackendError(.invalidArgument, "NYMBUS.PEERS takes no arguments") }
            let now = ContinuousClock.now
            return .array(await node.peers().map { peer in
                .map([
                    "id": .bulk(peer.id.description),
                    "direction": .bulk(peer.direction.rawValue),
                    "mode": .bulk(peer.mode.rawValue),
                    "address": .bulk(peer.address?.description ?? (peer.mode == .hidden ? "hidden" : "unproven")),
                    "user-agent": .bulk(peer.userAgent),
                    "rtt-ms": .integer(peer.rtt.map { Int64($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? -1),
                    "connected-seconds": .integer((now - peer.connectedSince).components.seconds),
                ])
            })
        case "NYMBUS.STATUS":
            guard arguments.count == 1 else { throw BrokerBackendError(.invalidArgument, "NYMBUS.STATUS takes no arguments") }
            let peers = await node.peers()
            let node_ = await node.statistics
            let topics = await pubsub.statistics
            let seen = await pubsub.seenCacheUsage
            let linkModes = await pubsub.linkModes()
            let eagerTarget = await pubsub.eagerLinkTarget
            let homeStripe = await pubsub.homeStripe
            let address = await node.advertisedAddress
            let queues = await node.sendQueues
            let brokerStats = await broker?.stats()
            var status: RESPValue = .map([
                "mode": .bulk(address == nil ? "hidden" : "visible"),
                "address": .bulk(address?.description ?? "hidden"),
                "nym-client-connected": .integer(await transport.isConnected ? 1 : 0),
                "nym-client-reconnects": .integer(Int64(await transport.reconnectCount)),
                "nym-client-queued": .integer(Int64(await transport.queuedMessageCount)),
                "nym-client-lane-packets": .integer(Int64(queues.nymClientPackets)),
                "nym-client-sends-refused": .integer(Int64(node_.sendFailures)),
                "nym-client-inbound-dropped": .integer(Int64(await transport.droppedInboundCount)),
                "link-queue-messages": .integer(Int64(queues.messages)),
                "link-queue-object-packets": .integer(Int64(queues.objectPackets)),
                "link-objects-left-to-repair": .integer(Int64(node_.objectsRefusedLinkFull)),
                "link-catch-up-answers-refused": .integer(Int64(node_.catchUpRefusedLinkFull)),
                "link-messages-left-at-close": .integer(Int64(node_.messagesLeftAtClose)),
                "link-messages-dropped-queue-full": .integer(Int64(node_.messagesDroppedQueueFull)),
                "nym-client-lane-reports-dropped": .integer(Int64(await transport.droppedLaneReportCount)),
                "publishers-waiting-for-links": .integer(Int64(queues.publishersWaiting)),
                "publish-waits-for-links": .integer(Int64(node_.publishWaits)),
                "lane-answers-lost": .integer(Int64(node_.laneAnswersLost)),
                "peers": .integer(Int64(peers.count)),
                "peers-outbound": .integer(Int64(peers.filter { $0.direction == .outbound }.count)),
                "peers-inbound": .integer(Int64(peers.filter { $0.direction == .inbound }.count)),
                "address-book": .integer(Int64(await node.addressBookCount)),
                "handshakes": .integer(Int64(node_.handshakesCompleted)),
                "misbehaving-peers": .integer(Int64(node_.discouragements)),
                "objects-published": .integer(Int64(topics.published)),
                "objects-published-batches": .integer(Int64(topics.publishedBatches)),
                "messages-in-batches": .integer(Int64(topics.batchedPayloads)),
                "objects-received": .integer(Int64(topics.received)),
                "objects-delivered": .integer(Int64(topics.delivered)),
                "objects-forwarded": .integer(Int64(topics.forwarded)),
                "objects-duplicate": .integer(Int64(topics.duplicates)),
                "publishes-waiting": .integer(Int64(await pubsub.pendingPublishes)),
                "publish-waits-for-peer": .integer(Int64(topics.heldQueueWaits)),
                "held-publishes-dropped-at-start": .integer(Int64(topics.heldDroppedAtLoad)),
                "links-timed-out": .integer(Int64(node_.timeouts)),
                "subscription-overflow": .integer(Int64(topics.subscriptionOverflow)),
                "broker-slow-subscribers-disconnected": .integer(Int64(brokerStats?.slowClientDisconnects ?? 0)),
                "broker-publishes-refused": .integer(Int64(brokerStats?.publishesRejected ?? 0)),
                "broker-socket-rebinds": .integer(Int64(await broker?.socketRebinds ?? 0)),
                "seen-cache-entries": .integer(Int64(seen.count)),
                "seen-cache-bytes": .integer(Int64(seen.bytes)),
                "repair-inv-sent": .integer(Int64(topics.invSent)),
                "repair-getdata-sent": .integer(Int64(topics.getdataSent)),
                "repair-objects-repaired": .integer(Int64(topics.repairedObjects)),
                "repair-objects-served": .integer(Int64(topics.getdataServed)),
                "links-eager": .integer(Int64(linkModes.eager)),
                "links-lazy": .integer(Int64(linkModes.lazy)),
                "tree-prune-sent": .integer(Int64(topics.pruneSent)),
                "tree-prune-received": .integer(Int64(topics.pruneReceived)),
                "tree-graft-sent": .integer(Int64(topics.graftSent)),
                "tree-graft-received": .integer(Int64(topics.graftReceived)),
                "tree-late-pushes": .integer(Int64(topics.latePushes)),
                "tree-eager-target": .integer(Int64(eagerTarget)),
                "tree-spare-grafts": .integer(Int64(topics.spareGrafts)),
                "tree-leaf-shed": .integer(Int64(topics.leafShed)),
                "tree-grafts-refused": .integer(Int64(topics.graftsRefused)),
                "tree-home-stripe": .integer(Int64(homeStripe)),
                "order-held": .integer(Int64(topics.orderHeld)),
                "order-gaps-skipped": .integer(Int64(topics.order.gapsSkipped)),
                "order-messages-skipped": .integer(Int64(topics.order.messagesSkipped)),
                "order-buffer-overflows": .integer(Int64(topics.order.overflows)),
                "order-late": .integer(Int64(topics.order.late)),
                "order-holds-extended": .integer(Int64(topics.order.holdsExtended)),
                "order-duplicates": .integer(Int64(topics.order.duplicates)),
            ])
            if let publishPath, case .map(var entries) = status {
                let path = await publishPath()
                func add(_ key: String, _ value: Int) {
                    entries.append(RESPMapEntry(key: .bulk(key), value: .integer(Int64(value))))
                }
                add("broker-queue-waiting", path.queueWaiting)
                add("broker-publishers-waiting", path.publishersWaiting)
                add("broker-publishes-lost", path.publishesLost)
                add("broker-publishes-refused-no-peer", path.publishesRefusedNoPeer)
                add("streams", path.streams)
                add("stream-entries-malformed", path.streamEntriesMalformed)
                if let outbox = path.outbox {
                    add("stream-outbox-waiting", outbox.waiting)
                    add("stream-outbox-sent", outbox.sent)
                    add("stream-outbox-dropped", outbox.dropped)
                }
                status = .map(entries)
            }
            return await withSyncStatus(pubsub: pubsub, status)
        default:
            return nil
        }
    }
}
