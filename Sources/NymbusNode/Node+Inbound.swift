import Logging
import NymbusTransport
import NymbusCrypto
import NymbusWire

/// Side effects gathered while the actor updates its state synchronously, carried out after:
/// sends (which await nym-client), then events and handler calls. Keeping the state changes
/// free of suspension points means no other call can see a half-applied message.
struct Effects {
    struct Packet {
        /// The link it belongs to; nil (or a link already closed) sends it on the general lane.
        let session: SessionID?
        let path: PeerPath
        let bytes: [UInt8]
        let surbs: UInt32
        let command: Command
        /// An object sent as catch-up: it queues after live objects (`LinkOutbox.Priority.backfill`).
        var catchUp = false
    }
    var packets: [Packet] = []
    var events: [PeerEvent] = []
    /// Topic-layer messages from established peers, in arrival order.
    var topicMessages: [(Message, PeerID)] = []
    var customs: [(any WireCodable, UInt32, PeerID)] = []
    /// Lanes of closed links, for nym-client to drop what it has not sent of them.
    var closedLanes: [UInt64] = []
}

extension Node {
    // MARK: - Receiving

    /// Handles one message from nym-client.
    func handleReceived(_ received: ReceivedMessage) async {
        guard started, !stopping else { return }
        var fx = Effects()
        route(received, into: &fx)
        await perform(fx)
    }

    /// Ties a received message to its session and checks it arrived on that session's path;
    /// otherwise treats it as a possible new inbound link (a `version`) or drops and counts it.
    func route(_ received: ReceivedMessage, into fx: inout Effects) {
        let bytes = received.data
        let at = now()
        statistics.bytesIn += bytes.count
        guard let header = EnvelopeHeader.peek(bytes) else {
            statistics.malformed += 1
            penalizeTag(received.senderTag, code: .malformed, reason: "not a Nymbus envelope", into: &fx)
            return
        }
        if var session = sessions[header.sessionID] {
            guard received.senderTag == session.path.expectedTag else {
                if session.role == .initiator, !session.isEstablished, header.command == Command.version.rawValue,
                    case .version(let v)? = try? Envelope.decode(bytes, limits: configuration.wireLimits).message,
                    v.nonce == session.localNonce
                {
                    // A hidden node's own sendAnonymous came back to it, tagged.
                    apply(
                        [
                            .close(
                                .selfConnection, "connected to ourselves (our version nonce came back)", notify: false,
                                discourage: false)
                        ],
                        to: header.sessionID, into: &fx)
                    return
                }
                statistics.droppedWrongPath += 1
                logger.debug("message on the wrong path dropped", metadata: ["peer": "\(PeerID(header.sessionID))"])
                return
            }
            let envelope: Envelope
            do {
                envelope = try Envelope.decode(bytes, limits: configuration.wireLimits)
            } catch {
                let code = reasonCode(for: error)
                closeSession(
                    header.sessionID, code: code, reason: truncated(error.reason), notify: true, discourage: true,
                    error: nil,
                    into: &fx)
                return
            }
            statistics.messagesIn[envelope.message.command, default: 0] += 1
            let packets = max(1, (bytes.count + 1599) / 1600)
            let actions = session.receive(envelope.message, size: bytes.count, packets: packets, now: at)
            sessions[header.sessionID] = session
            apply(actions, to: header.sessionID, into: &fx)
            return
        }
        if closedSessions.contains(header.sessionID) {
            statistics.droppedClosedSession += 1
            // Still in use by the other side: it missed our `bye`. Say it again (rate-limited).
            // Only a message on the link's own path (untagged for a visible peer, its tag for a
            // hidden one) is answered, and only along that path; never a `bye` (two sides that
            // both closed would otherwise remind each other forever).
            if header.command != Command.bye.rawValue,
                closedLinks.path(of: header.sessionID)?.expectedTag == received.senderTag,
                let (path, code) = closedLinks.reminder(for: header.sessionID, now: now())
            {
                statistics.closedLinkReminders += 1
                sendBye(code, "this link is closed", session: header.sessionID, path: path, into: &fx)
            }
            return
        }
        let envelope: Envelope
        do {
            envelope = try Envelope.decode(bytes, limits: configuration.wireLimits)
        } catch {
            statistics.droppedUnknownSession += 1
            let code = reasonCode(for: error)
            penalizeTag(received.senderTag, code: code, reason: truncated(error.reason), into: &fx)
            return
        }
        statistics.messagesIn[envelope.message.command, default: 0] += 1
        guard case .version(let version) = envelope.message else {
            // A session must start with `version`: the id is dead from now on. A hidden sender
            // can be told (it may be a peer whose session we forgot, e.g. after a restart).
            statistics.droppedUnknownSession += 1
            closedSessions.insert(header.sessionID)
            // A `bye` on a session we never heard of ends a link whose `version` never reached us
            // (lost, or dropped unsent with its lane when the dialer gave up on the handshake):
            // honest, and there is nothing to answer.
            if case .bye = envelope.message { return }
            if let tag = received.senderTag {
                statistics.protocolViolations += 1
                sendBye(
                    .protocolViolation, "unknown session: a session must start with version",
                    session: header.sessionID, path: .anonymousInbound(tag), into: &fx)
            }
            return
        }
        acceptInbound(header.sessionID, version: version, tag: received.senderTag, into: &fx)
    }

    /// The bye code for a message that failed to decode.
    func reasonCode(for error: WireError) -> ReasonCode {
        if error.code == .lengthOverLimit {
            statistics.oversized += 1
            return .oversized
        }
        statistics.malformed += 1
        return .malformed
    }

    /// Closes (and discourages) every link of a hidden peer that sent bytes we cannot read:
    /// its sender tag is the only thing that ties them to it.
    func penalizeTag(_ tag: SenderTag?, code: ReasonCode, reason: String, into fx: inout Effects) {
        guard let tag else { return }
        for (id, session) in sessions where session.path.expectedTag == tag {
            closeSession(id, code: code, reason: reason, notify: true, discourage: true, error: nil, into: &fx)
        }
    }

    /// Accepts (or refuses) a new inbound link that opened with `version`.
    func acceptInbound(_ id: SessionID, version: VersionMessage, tag: SenderTag?, into fx: inout Effects) {
        let at = now()
        let path: PeerPath
        if let tag {
            path = .anonymousInbound(tag)  // answer whoever sent it, whatever address it claims
        } else if let address = version.returnAddress {
            guard address != selfAddress, !ownAddresses.contains(address) else {
                // Someone claims our own address: answering would send our handshake to ourselves.
                statistics.protocolViolations += 1
                closedSessions.insert(id)
                return
            }
            path = .visible(address)
        } else {
            // No address and no tag: no way to answer.
            statistics.protocolViolations += 1
            closedSessions.insert(id)
            return
        }
        closedSessions.insert(id)  // any refusal below leaves the id dead; acceptance removes it
        if let mine = sessions.values.first(where: {
            $0.role == .initiator && !$0.isEstablished && $0.localNonce == version.nonce
        }) {
            statistics.selfConnections += 1
            if let address = mine.dialedAddress {
                ownAddresses.insert(address)
                book.remove(address)
            }
            logger.info("connected to ourselves; link dropped", metadata: ["peer": "\(PeerID(mine.id))"])
            closeSession(
                mine.id, code: .selfConnection, reason: "connected to ourselves", notify: false, discourage: false,
                error: NodeError(.selfConnection, "the address dialed is this node itself (version nonce came back)"),
                into: &fx)
            return
        }
        if configuration.mode == .hidden {
            statistics.refusedInbound += 1
            sendBye(.noInbound, "hidden node: accepts no inbound links", session: id, path: path, into: &fx)
            return
        }
        let unix = unixNow()
        let tagDiscouraged = tag.map { discouraged.isDiscouraged(.tag($0), now: unix) } ?? false
        let addressDiscouraged =
            version.returnAddress.map { discouraged.isDiscouraged(.address($0), now: unix) } ?? false
        if tagDiscouraged || addressDiscouraged {
            statistics.refusedDiscouraged += 1
            sendBye(.protocolViolation, "discouraged after misbehaving", session: id, path: path, into: &fx)
            return
        }
        guard makeInboundRoom(into: &fx) else {
            statistics.refusedInbound += 1
            sendBye(.tooManyPeers, "no room for more inbound links", session: id, path: path, into: &fx)
            return
        }
        let (session, actions) = PeerSession.respond(
            id: id, path: path, peerVersion: version,
            version: makeVersion(nonce: SecureRandom.uint64(), forInitiator: false),
            settings: settings.forNewLink(), now: at)
        guard let session else {
            statistics.handshakesFailed += 1
            for case .close(let code, let reason, _, _) in actions {
                sendBye(code, reason, session: id, path: path, into: &fx)
            }
            return
        }
        sessions[id] = session
        apply(actions, to: id, into: &fx)
    }

    /// With inbound links at `inboundMax`, evicts one (`InboundEviction`: not among the fastest
    /// quarter or the longest-connected half of the rest; the newest of the others). Returns
    /// false if there is still no room (nothing could be evicted).
    func makeInboundRoom(into fx: inout Effects) -> Bool {
        let inbound = sessions.values.filter { $0.role == .responder }
        guard inbound.count >= configuration.inboundMax else { return true }
        guard inbound.count == configuration.inboundMax else { return false }
        let candidates = inbound.map {
            InboundEviction.Candidate(id: $0.id, connectedAt: $0.createdAt, minimumRTT: $0.minimumRTT)
        }
        guard let victim = InboundEviction.select(from: candidates) else { return false }
        statistics.evictedInbound += 1
        logger.info("inbound link evicted to make room for a new one", metadata: ["peer": "\(PeerID(victim))"])
        closeSession(
            victim, code: .tooManyPeers, reason: "evicted to make room for a new inbound link", notify: true,
            discourage: false, error: nil, into: &fx)
        return true
    }

    /// Our `version`: the address only from a visible initiator; a hidden node never names itself.
    /// An address fetch offers no `relay`: the peer then sends it no objects (spec/node.md §5).
    func makeVersion(nonce: UInt64, forInitiator: Bool, addressFetch: Bool = false) -> VersionMessage {
        let visible = configuration.mode == .visible
        let unix = unixNow()
        var services: Services = visible ? [.relay, .acceptsInbound] : [.relay]
        if addressFetch { services.remove(.relay) }
        return VersionMessage(
            protocolVersion: NodeProtocol.version, services: services,
            timestamp: unix - unix % 60, nonce: nonce, userAgent: configuration.userAgent,
            returnAddress: visible && forInitiator ? selfAddress : nil)
    }

    // MARK: - Dialing

    /// Opens an outbound link to `address`: sends `version` (by `send`, or by `sendAnonymous`
    /// with SURBs when hidden). Returns the new session id.
    func dial(_ address: Recipient, addressFetch: Bool = false, into fx: inout Effects) -> SessionID {
        let id = SessionID.random()
        let path: PeerPath = configuration.mode == .hidden ? .anonymousOutbound(address) : .visible(address)
        let (session, actions) = PeerSession.initiate(
            id: id, path: path,
            version: makeVersion(nonce: SecureRandom.uint64(), forInitiator: true, addressFetch: addressFetch),
            settings: settings.forNewLink(),
            now: now())
        sessions[id] = session
        book.markAttempt(address, now: unixNow())
        logger.debug("dialing", metadata: ["peer": "\(PeerID(id))", "address": "\(short(address))"])
        apply(actions, to: id, into: &fx)
        return id
    }

    // MARK: - Carrying out session actions

    func apply(_ actions: [SessionAction], to id: SessionID, into fx: inout Effects) {
        for action in actions {
            guard sessions[id] != nil else { return }  // closed by an earlier action
            switch action {
            case .send(let message):
                enqueue(message, on: id, into: &fx)
            case .established:
                established(id, into: &fx)
            case .deliver(let message):
                deliver(message, from: id, into: &fx)
            case .close(let code, let reason, let notify, let discourage):
                count(closeCode: code, punished: discourage, session: id)
                closeSession(
                    id, code: code, reason: reason, notify: notify, discourage: discourage, error: nil, into: &fx)
            case .peerClosed(let bye):
                closeSession(
                    id, code: bye.code, reason: "peer said bye: \(bye.reason)", notify: false, discourage: false,
                    error: error(forPeerBye: bye, session: sessions[id]), into: &fx)
            case .note(let note):
                switch note {
                case .duplicate: statistics.duplicates += 1
                case .pongMismatch: statistics.pongMismatches += 1
                case .getaddrIgnored: statistics.getaddrIgnored += 1
                case .addressesRateLimited(let n): statistics.addressesRateLimited += n
                case .rejectReceived(let reject):
                    statistics.rejectsReceived += 1
                    logger.info(
                        "peer rejected a message",
                        metadata: ["peer": "\(PeerID(id))", "code": "\(reject.code)", "reason": "\(reject.reason)"])
                }
            }
        }
    }

    func count(closeCode code: ReasonCode, punished: Bool, session id: SessionID) {
        switch code {
        case .selfConnection:
            statistics.selfConnections += 1
            if let address = sessions[id]?.dialedAddress {
                ownAddresses.insert(address)
                book.remove(address)
            }
        case .protocolViolation where punished: statistics.protocolViolations += 1
        case .flood: statistics.floods += 1
        case .timeout: statistics.timeouts += 1
        default: break
        }
    }

    /// Encodes `message` for session `id` and queues it on the session's path.
    func enqueue(_ message: Message, on id: SessionID, catchUp: Bool = false, into fx: inout Effects) {
        guard var session = sessions[id] else { return }
        let surbs = session.surbs(for: message)
        sessions[id] = session
        let bytes = Envelope(sessionID: id, message: message).encode()
        fx.packets.append(
            Effects.Packet(
                session: id, path: session.path, bytes: bytes, surbs: surbs, command: message.command, catchUp: catchUp))
    }

    /// Queues a `bye` for a session that may not (or no longer) exist.
    func sendBye(_ code: ReasonCode, _ reason: String, session id: SessionID, path: PeerPath, into fx: inout Effects) {
        let bytes = Envelope(sessionID: id, message: .bye(ByeMessage(code: code, reason: truncated(reason)))).encode()
        fx.packets.append(Effects.Packet(session: nil, path: path, bytes: bytes, surbs: 0, command: .bye))
    }

    /// Handles a completed handshake: book, event, waiters, and our `getaddr` on links we dialed.
    func established(_ id: SessionID, into fx: inout Effects) {
        guard var session = sessions[id], let info = info(session) else { return }
        statistics.handshakesCompleted += 1
        let unix = unixNow()
        let services = session.peerVersion?.services.rawValue ?? 0
        if session.role == .initiator, let address = session.dialedAddress {
            book.markGood(address, services: services, now: unix)
            if !addressFetches.contains(id) { redials.linked(address) }
            let actions = session.requestAddresses()
            sessions[id] = session
            apply(actions, to: id, into: &fx)
            if addressFetches.contains(id) {
                logger.debug("address fetch link up", metadata: ["peer": "\(PeerID(id))"])
                return  // not a peer for anything else: no event, no waiters
            }
        } else if let address = session.provenAddress, address != selfAddress {
            // A visible initiator proved it receives at the address it claimed: keep it, and
            // pass it on as a fresh self-announcement (Bitcoin Core relays those the same way).
            let outcome = book.add(
                address, services: services, lastSeen: UInt32(clamping: unix), source: .peer(address), now: unix)
            if outcome == .added { statistics.addressesAdded += 1 }
            sessions[id]?.markKnown(address)
            relay(
                AddressEntry(
                    address: address, lastSeen: UInt32(clamping: unix), services: Services(rawValue: services)),
                from: id, into: &fx)
        }
        probeOlderLinks(like: session, into: &fx)
        if let established = sessions[id], !isPeerLink(established) {
            // A peer's address fetch (its `version` offers no relay): it asks for addresses and
            // closes. Not a peer: no event, no objects, which would be lost when it closes.
            logger.debug("address fetch link from a peer up", metadata: ["peer": "\(PeerID(id))"])
            return
        }
        logger.info(
            "peer connected",
            metadata: [
                "peer": "\(info.id)", "direction": "\(info.direction.rawValue)", "mode": "\(info.mode.rawValue)",
                "address": "\(info.address.map(short) ?? "-")",
            ])
        fx.events.append(.connected(info))
        finishDial(id, with: .success(info.id))
    }

    /// A new inbound link from a peer that already has an inbound link here (the same proven
    /// address, or the same sender tag) usually means the peer restarted and the old link is
    /// dead: ping the old one now instead of at its next silence. Only a probe: anyone can open
    /// a link, and must not be able to close someone else's.
    func probeOlderLinks(like session: PeerSession, into fx: inout Effects) {
        guard session.role == .responder else { return }
        let address = session.provenAddress
        let tag = session.path.expectedTag
        guard address != nil || tag != nil else { return }
        let at = now()
        for (id, other) in sessions
        where id != session.id && other.role == .responder && other.isEstablished
            && ((address != nil && other.provenAddress == address) || (tag != nil && other.path.expectedTag == tag))
        {
            var other = other
            let actions = other.probe(now: at, nonce: SecureRandom.uint64())
            sessions[id] = other
            statistics.earlyProbes += actions.isEmpty ? 0 : 1
            apply(actions, to: id, into: &fx)
        }
    }

    /// Removes a session: optional `bye`, discouragement, event, waiters.
    func closeSession(
        _ id: SessionID, code: ReasonCode, reason: String, notify: Bool, discourage: Bool, error: NodeError?,
        into fx: inout Effects
    ) {
        guard let session = sessions.removeValue(forKey: id) else { return }
        let wasPeerLink = isPeerLink(session)
        dropOutbox(of: id, into: &fx)
        closedSessions.insert(id)
        closedLinks.closed(id, path: session.path, code: code)
        let wasAddressFetch = addressFetches.remove(id) != nil
        if !wasAddressFetch, let address = session.dialedAddress {
            // Relink (spec/node.md §7): a lost link at once, a failed dial with backoff; never
            // ourselves, a hidden peer, or one we discouraged.
            let jitter = Double.random(in: 0.5...1.5)
            switch code {
            case .selfConnection, .noInbound: redials.forget(address)
            case _ where discourage: redials.forget(address)
            case _ where session.isEstablished:
                redials.lost(address, now: now(), jitter: jitter)
                emptyAddressFetches = 0  // the network changed: fetching may find something again
            default: redials.failed(address, now: now(), jitter: jitter)
            }
        }
        if notify { sendBye(code, reason, session: id, path: session.path, into: &fx) }
        if discourage {
            let at = unixNow()
            // Only what is attributable: an address we dialed or that proved itself, or the tag
            // a hidden peer's messages carry. A visible initiator's unproven claim could name a
            // victim, so it is never discouraged.
            var keys: [DiscouragedKey] = []
            if let address = session.dialedAddress ?? session.provenAddress { keys.append(.address(address)) }
            if let tag = session.path.expectedTag { keys.append(.tag(tag)) }
            for key in keys { discouraged.discourage(key, now: at) }
            statistics.discouragements += keys.isEmpty ? 0 : 1
            logger.warning(
                "peer discouraged", metadata: ["peer": "\(PeerID(id))", "code": "\(code)", "reason": "\(reason)"])
        }
        if wasPeerLink {
            logger.info(
                "peer disconnected", metadata: ["peer": "\(PeerID(id))", "code": "\(code)", "reason": "\(reason)"])
            fx.events.append(.disconnected(PeerID(id), code))
        } else if session.isEstablished {
            logger.debug("address fetch link closed", metadata: ["peer": "\(PeerID(id))", "code": "\(code)"])
        } else {
            statistics.handshakesFailed += 1
            logger.debug(
                "handshake failed", metadata: ["peer": "\(PeerID(id))", "code": "\(code)", "reason": "\(reason)"])
        }
        finishDial(id, with: .failure(error ?? self.error(forCode: code, reason: reason)))
    }

    /// Resumes `connect` calls waiting on session `id`.
    func finishDial(_ id: SessionID, with result: Result<PeerID, NodeError>) {
        if let list = waiters.removeValue(forKey: id) {
            for waiter in list { waiter.resume(returning: result) }
        } else if connectRequested.contains(id) {
            dialOutcomes[id] = result
        }
    }

    /// The error `connect` reports when the peer says `bye` during the handshake.
    func error(forPeerBye bye: ByeMessage, session: PeerSession?) -> NodeError {
        let who = session?.dialedAddress.map(short) ?? "the peer"
        switch bye.code {
        case .noInbound:
            return NodeError(
                .noInbound,
                "\(who) accepts no inbound links: it is a hidden node with no address to give, so it can only dial out "
                    + "(two hidden nodes cannot link to each other) — peer said: \(bye.reason)")
        case .selfConnection:
            return NodeError(.selfConnection, "\(who) is this node itself")
        case .incompatibleVersion:
            return NodeError(.incompatibleVersion, "\(who) speaks another protocol version: \(bye.reason)")
        case .tooManyPeers:
            return NodeError(.tooManyPeers, "\(who) has no room for more links: \(bye.reason)")
        default:
            return NodeError(.refused, "\(who) refused the link (\(bye.code)): \(bye.reason)")
        }
    }

    /// The error `connect` reports when we close the link ourselves.
    func error(forCode code: ReasonCode, reason: String) -> NodeError {
        switch code {
        case .timeout: NodeError(.handshakeTimeout, reason)
        case .selfConnection: NodeError(.selfConnection, reason)
        case .incompatibleVersion: NodeError(.incompatibleVersion, reason)
        case .shuttingDown: NodeError(.stopped, reason)
        default: NodeError(.disconnected, "link closed (\(code)): \(reason)")
        }
    }

    /// Cuts a reason to what `bye` carries (255 bytes), on a character boundary.
    func truncated(_ reason: String) -> String {
        guard reason.utf8.count > 200 else { return reason }
        var out = ""
        for ch in reason {
            if out.utf8.count + String(ch).utf8.count > 200 { break }
            out.append(ch)
        }
        return out
    }

    // MARK: - Performing effects

    /// Queues packets for their links (or sends them, `Node+Sending.swift`), closes the lanes of
    /// closed links, then reports events and calls handlers. Returns how many packets were queued
    /// or sent (a refusal is counted where it happened).
    @discardableResult
    func perform(_ fx: Effects) async -> Int {
        var accepted = 0
        for packet in fx.packets where await dispatch(packet) { accepted += 1 }
        for lane in fx.closedLanes { await transport.closeLane(lane) }
        if let handler = peerHandler {
            for event in fx.events { await handler(event) }
        }
        if let handler = topicMessageHandler {
            for (message, peer) in fx.topicMessages { await handler(message, peer) }
        }
        for (value, typeID, peer) in fx.customs {
            if let handler = customHandlers[typeID] { await handler(value, peer) }
        }
        return accepted
    }
}
