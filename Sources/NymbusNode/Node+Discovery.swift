import Logging
import NymbusTransport
import NymbusCrypto
import NymbusWire

extension Node {
    // MARK: - Messages for the node

    /// Handles what a session hands up: `getaddr`, `addr`, `object`, `custom`.
    func deliver(_ message: Message, from id: SessionID, into fx: inout Effects) {
        switch message {
        case .getaddr:
            answerGetaddr(id, into: &fx)
        case .addr(let entries):
            ingestAddr(entries, from: id, into: &fx)
        case .custom(let object):
            deliverCustom(object, from: id, into: &fx)
        case let message where message.command.isTopicLayer:
            fx.topicMessages.append((message, PeerID(id)))
        default:
            break
        }
    }

    func deliverCustom(_ object: CustomObject, from id: SessionID, into fx: inout Effects) {
        do {
            let value = try registry.decode(object)
            fx.customs.append((value, object.typeID, PeerID(id)))
        } catch  where error.code == .unknownObjectType {
            // Peers may run other applications: say so, keep the link.
            statistics.unknownObjectTypes += 1
            enqueue(
                .reject(
                    RejectMessage(
                        code: .invalidObject, command: Command.custom.rawValue,
                        reason: "no handler for object type \(object.typeID)")), on: id, into: &fx)
        } catch {
            statistics.malformed += 1
            closeSession(
                id, code: .invalidObject, reason: truncated("custom object \(object.typeID): \(error.reason)"),
                notify: true,
                discourage: true, error: nil, into: &fx)
        }
    }

    // MARK: - getaddr / addr

    /// Answers a peer's (first) `getaddr` from the node's cached sample of the book (made anew
    /// every 21–27 h, see `GetaddrCache`): 23 % of the book as Bitcoin Core, at least
    /// `getaddrMinimum` entries when the book is small, at most 1000. The peer's own address,
    /// ours, and discouraged ones are left out.
    func answerGetaddr(_ id: SessionID, into fx: inout Effects) {
        guard let session = sessions[id] else { return }
        let at = now()
        let unix = unixNow()
        let cache: GetaddrCache
        if let current = getaddrCache, !current.isStale(now: at) {
            cache = current
        } else {
            cache = makeGetaddrCache(now: at, unix: unix)
            getaddrCache = cache
        }
        let requester = session.provenAddress
        let entries = cache.answer { entry in
            entry.address != requester && entry.address != self.selfAddress
                && !self.ownAddresses.contains(entry.address)
                && !self.discouraged.isDiscouraged(.address(entry.address), now: unix)
        }
        // Answered even when empty: an address fetch waits for this answer to close its link,
        // and would otherwise sit as a second inbound link until its timeout.
        for entry in entries { sessions[id]?.markKnown(entry.address) }
        let wire = entries.map {
            AddressEntry(address: $0.address, lastSeen: $0.lastSeen, services: Services(rawValue: $0.services))
        }
        enqueue(.addr(wire), on: id, into: &fx)
    }

    /// A new random sample of the book for `getaddr` answers, expiring after the configured
    /// lifetime plus a random part of the jitter.
    func makeGetaddrCache(now at: Double, unix: Int64) -> GetaddrCache {
        let size = book.count
        let share = Int((Double(size) * configuration.getaddrShare).rounded(.up))
        let maximum = min(
            configuration.getaddrMaximum, configuration.wireLimits.maxAddrEntries,
            max(share, min(size, configuration.getaddrMinimum)))
        var random = SecureRNG()
        let pool = book.sample(
            maximum: .max, now: unix,
            exclude: { address in
                address == self.selfAddress || self.ownAddresses.contains(address)
                    || self.discouraged.isDiscouraged(.address(address), now: unix)
            }, using: &random)
        let jitterMillis = UInt64(max(0, configuration.getaddrCacheJitter.seconds * 1000))
        let extra = jitterMillis > 0 ? Double(random.next() % jitterMillis) / 1000 : 0
        return GetaddrCache(
            pool: pool, maximum: maximum, expires: at + configuration.getaddrCacheLifetime.seconds + extra)
    }

    /// Stores addresses a peer sent (already cut by its token bucket), bucketed by that peer,
    /// and relays fresh ones from small unsolicited `addr` messages (Bitcoin Core's rules:
    /// ≤ 10 entries, seen in the last 10 minutes, not the answer to our own `getaddr`).
    func ingestAddr(_ entries: [AddressEntry], from id: SessionID, into fx: inout Effects) {
        guard var session = sessions[id] else { return }
        statistics.addressesReceived += entries.count
        let unix = unixNow()
        let relayable = entries.count <= configuration.addrRelayMaxEntries && !session.awaitingAddrAnswer
        for entry in entries { session.markKnown(entry.address) }
        if entries.count < configuration.wireLimits.maxAddrEntries { session.awaitingAddrAnswer = false }
        sessions[id] = session
        let source: AddressSource =
            session.provenAddress.map { .peer($0) } ?? .anonymous(session.path.expectedTag?.bytes ?? id.bytes)
        let freshness = Int64(configuration.addrRelayFreshness.seconds)
        for entry in entries {
            let address = entry.address
            if address == selfAddress || ownAddresses.contains(address) { continue }
            if discouraged.isDiscouraged(.address(address), now: unix) { continue }
            var seen = Int64(entry.lastSeen)
            if seen <= 100_000_000 || seen > unix + 600 { seen = unix - 5 * 86_400 }  // Bitcoin Core's fix-up
            let penalty: Int64 = address == session.provenAddress ? 0 : 2 * 3600  // relayed: 2 h older
            let outcome = book.add(
                address, services: entry.services.rawValue, lastSeen: UInt32(clamping: max(0, seen - penalty)),
                source: source, now: unix)
            if outcome == .added { statistics.addressesAdded += 1 }
            if relayable, seen > unix - freshness {
                relay(entry, from: id, into: &fx)
            }
        }
        if addressFetches.contains(id) {
            let added = entries.contains { book.entry(for: $0.address)?.lastTry == 0 && !ownAddresses.contains($0.address) }
            emptyAddressFetches = added ? 0 : emptyAddressFetches + 1
            closeSession(
                id, code: .normal, reason: "address fetch complete", notify: true, discourage: false, error: nil,
                into: &fx)
        }
    }

    /// Passes one fresh address on to `addrRelayFanout` established peers, chosen by a keyed
    /// hash of the address and the day (so repeats go to the same peers and stop there), never
    /// back to the peer it came from or to one that already knows it.
    func relay(_ entry: AddressEntry, from id: SessionID, into fx: inout Effects) {
        let day = unixNow() / 86_400
        let dayBytes = (0..<8).map { UInt8(truncatingIfNeeded: day >> (56 - 8 * $0)) }
        let ranked = sessions.values
            .filter { $0.isEstablished && $0.id != id && $0.provenAddress != entry.address }
            .map { session -> (SessionID, [UInt8]) in
                let digest =
                    (try? Blake2b.hash(
                        entry.address.bytes + dayBytes + session.id.bytes, outputLength: 16, key: relayKey))
                    ?? []
                return (session.id, digest)
            }
            .sorted { $0.1.lexicographicallyPrecedes($1.1) }
            .prefix(configuration.addrRelayFanout)
        for (target, _) in ranked {
            guard let session = sessions[target], !session.knows(entry.address) else { continue }
            sessions[target]?.markKnown(entry.address)
            statistics.addressesRelayed += 1
            enqueue(.addr([entry]), on: target, into: &fx)
        }
    }

    // MARK: - Timers and outbound links

    /// Runs every `maintenanceInterval`: session timers, missing outbound links, book saves.
    func maintain() async {
        guard started, !stopping else { return }
        let at = now()
        var fx = Effects()
        for id in Array(sessions.keys) {
            guard var session = sessions[id] else { continue }
            if addressFetches.contains(id), let since = session.establishedAt,
                at - since >= configuration.handshakeTimeout.seconds
            {
                emptyAddressFetches += 1
                closeSession(
                    id, code: .normal, reason: "address fetch unanswered", notify: true, discourage: false, error: nil,
                    into: &fx)
                continue
            }
            let actions = session.tick(now: at, nonce: SecureRandom.uint64())
            sessions[id] = session
            apply(actions, to: id, into: &fx)
        }
        discouraged.prune(now: unixNow())
        saveDiscouragement()
        fillOutbound(into: &fx)
        saveBookIfDue(now: at)
        await perform(fx)
    }

    /// Writes the book `bookSaveDelay` after it first changed (debounced: one write however
    /// many changes), and every `bookSaveInterval` anyway.
    func saveBookIfDue(now at: Double) {
        guard store != nil else { return }
        if book.changes != savedBookChanges {
            let since = bookChangedAt ?? at
            bookChangedAt = since
            if at - since >= configuration.bookSaveDelay.seconds {
                saveBook()
                return
            }
        }
        if at - lastBookSave >= configuration.bookSaveInterval.seconds { saveBook() }
    }

    /// Dials due redials that have not failed yet (a link just lost, bootstrap addresses and the
    /// last run's peers at start), then book addresses, then due redials whose last dial failed,
    /// until the outbound target is met (counting links still in their handshake). Never two
    /// outbound links to one address.
    ///
    /// A redial that failed comes after the book: a peer that went away for good would otherwise
    /// hold the slot with one handshake timeout after another (its backoff is short at first, and
    /// several gone peers take turns), while live addresses the book has never tried wait behind it.
    func fillOutbound(into fx: inout Effects) {
        let outbound = sessions.values.filter { $0.role == .initiator && !addressFetches.contains($0.id) }
        var deficit = configuration.outboundTarget - outbound.count
        guard deficit > 0 else { return }
        var taken = Set(outbound.compactMap(\.dialedAddress))
        let unix = unixNow()
        let usable = { (address: Recipient, taken: Set<Recipient>) -> Bool in
            !taken.contains(address) && address != self.selfAddress && !self.ownAddresses.contains(address)
                && !self.discouraged.isDiscouraged(.address(address), now: unix)
        }
        let due = redials.due(now: now())
        func dialRedials(_ addresses: [Recipient]) {
            for address in addresses where deficit > 0 {
                guard usable(address, taken) else {
                    if !taken.contains(address) { redials.forget(address) }
                    continue
                }
                _ = dial(address, into: &fx)
                taken.insert(address)
                deficit -= 1
            }
        }
        dialRedials(due.filter { redials.entry($0)?.failures == 0 })
        var random = SecureRNG()
        let retry = Int64(configuration.redialDelay.seconds)
        while deficit > 0 {
            let current = taken
            guard
                let address = book.select(
                    now: unix, retryDelay: retry, exclude: { !usable($0, current) }, using: &random)
            else { break }
            _ = dial(address, into: &fx)
            taken.insert(address)
            deficit -= 1
        }
        dialRedials(due.filter { (redials.entry($0)?.failures ?? 0) > 0 })
        if deficit > 0 { fetchAddresses(into: &fx) }
    }

    /// Below target with nothing left to dial: open one short link to a bootstrap address or a
    /// peer we dialed, only to send `getaddr` (each link's `getaddr` is answered once, so a lost
    /// answer is otherwise never repeated). At most one at a time, one per `addressFetchInterval`.
    func fetchAddresses(into fx: inout Effects) {
        let at = now()
        // Each fetch that brought nothing new doubles the wait (up to 64 intervals): a small
        // network where everyone is below target would otherwise fetch once a minute forever.
        let interval = configuration.addressFetchInterval.seconds * Double(1 << min(emptyAddressFetches, 6))
        guard addressFetches.isEmpty, at - lastAddressFetch >= interval else {
            return
        }
        let alive = sessions.values.filter { $0.role == .initiator && $0.isEstablished }.compactMap(\.dialedAddress)
        let unix = unixNow()
        let candidates = (configuration.bootstrap + alive).filter {
            $0 != selfAddress && !ownAddresses.contains($0) && !discouraged.isDiscouraged(.address($0), now: unix)
        }
        var random = SecureRNG()
        guard let target = candidates.randomElement(using: &random) else { return }
        lastAddressFetch = at
        let id = dial(target, addressFetch: true, into: &fx)
        addressFetches.insert(id)
        statistics.addressFetches += 1
        logger.debug("fetching addresses", metadata: ["peer": "\(PeerID(id))", "address": "\(short(target))"])
    }
}
