import NymbusCrypto

/// One overlay message, without its envelope.
public enum Message: Equatable, Sendable {
    case version(VersionMessage)
    case verack(VerackMessage)
    case ping(nonce: UInt64)
    case pong(nonce: UInt64)
    case getaddr
    case addr([AddressEntry])
    case reject(RejectMessage)
    case bye(ByeMessage)
    /// A pub/sub object; opaque here, `NymbusPubSub` defines and checks its contents.
    case object([UInt8])
    case custom(CustomObject)
    /// Ids of objects the sender has (gossip repair, spec/pubsub.md "Repair"): 1…500 ids.
    case inv([InventoryID])
    /// Ids of objects the sender asks for, each answered with an `object` if the peer still has it: 1…500 ids.
    case getdata([InventoryID])
    /// "Stop pushing objects to me; announce them instead" (Plumtree's PRUNE, spec/pubsub.md
    /// "Dissemination"): the link turns lazy at both ends, in the stripes named.
    case prune(StripeMask)
    /// "Push objects to me again, and send me these": the link turns eager at both ends in the
    /// stripes named, and each id is answered as `getdata` would be (Plumtree's GRAFT): 0…500 ids.
    case graft(StripeMask, [InventoryID])
    /// Catch-up reconciliation ranges (spec/pubsub.md §16): 0…128 ranges, 0…500 ids in all.
    case syncRanges(SyncRanges)
    /// Ids of archived objects the sender asks for in catch-up, each answered with a `syncobject`: 1…500 ids.
    case syncGet([InventoryID])
    /// An archived object sent in answer to `syncget`; same limits as `object`.
    case syncObject([UInt8])

    /// The command byte this message travels under.
    public var command: Command {
        switch self {
        case .version: .version
        case .verack: .verack
        case .ping: .ping
        case .pong: .pong
        case .getaddr: .getaddr
        case .addr: .addr
        case .reject: .reject
        case .bye: .bye
        case .object: .object
        case .custom: .custom
        case .inv: .inv
        case .getdata: .getdata
        case .prune: .prune
        case .graft: .graft
        case .syncRanges: .syncrange
        case .syncGet: .syncget
        case .syncObject: .syncobject
        }
    }

    /// Appends the payload bytes (what follows the envelope header).
    public func encodePayload(into w: inout ByteWriter) {
        switch self {
        case .version(let v):
            w.write(v.protocolVersion)
            w.write(v.services.rawValue)
            w.write(v.timestamp)
            w.write(v.nonce)
            w.writeShortString(v.userAgent)
            if let address = v.returnAddress {
                w.write(UInt8(1))
                w.write(bytes: address.bytes)
            } else {
                w.write(UInt8(0))
            }
        case .verack(let v):
            w.write(v.echoNonce)
        case .ping(let nonce), .pong(let nonce):
            w.write(nonce)
        case .getaddr:
            break
        case .addr(let entries):
            w.write(UInt16(entries.count))
            for e in entries {
                w.write(bytes: e.address.bytes)
                w.write(e.lastSeen)
                w.write(e.services.rawValue)
            }
        case .reject(let r):
            w.write(r.code.rawValue)
            w.write(r.command)
            w.writeShortString(r.reason)
        case .bye(let b):
            w.write(b.code.rawValue)
            w.writeShortString(b.reason)
        case .object(let bytes):
            w.write(bytes: bytes)
        case .custom(let c):
            w.write(c.typeID)
            w.write(bytes: c.body)
        case .inv(let ids), .getdata(let ids), .syncGet(let ids):
            w.write(UInt16(truncatingIfNeeded: ids.count))
            for id in ids { w.write(bytes: id.bytes) }
        case .graft(let stripes, let ids):
            w.write(stripes.rawValue)
            w.write(UInt16(truncatingIfNeeded: ids.count))
            for id in ids { w.write(bytes: id.bytes) }
        case .prune(let stripes):
            w.write(stripes.rawValue)
        case .syncRanges(let ranges):
            ranges.encode(into: &w)
        case .syncObject(let bytes):
            w.write(bytes: bytes)
        }
    }

    /// Decodes the payload of a message with the given command. The reader must hold exactly the
    /// payload: trailing bytes are an error.
    public static func decodePayload(
        command: Command, from r: inout ByteReader, limits: WireLimits = .default
    ) throws(WireError) -> Message {
        let message: Message
        switch command {
        case .version:
            let protocolVersion = try r.readUInt16("version.protocolVersion")
            let services = Services(rawValue: try r.readUInt64("version.services"))
            let timestamp = try r.readInt64("version.timestamp")
            let nonce = try r.readUInt64("version.nonce")
            let userAgent = try r.readShortString(limit: limits.maxUserAgent, "version.userAgent")
            let address: Recipient?
            switch try r.readUInt8("version.hasAddress") {
            case 0: address = nil
            case 1: address = try decodeAddress(&r, "version.returnAddress")
            case let v: throw WireError(.invalidValue, "version.hasAddress must be 0 or 1, got \(v)")
            }
            message = .version(
                VersionMessage(
                    protocolVersion: protocolVersion, services: services, timestamp: timestamp, nonce: nonce,
                    userAgent: userAgent, returnAddress: address))
        case .verack:
            message = .verack(VerackMessage(echoNonce: try r.readUInt64("verack.echoNonce")))
        case .ping:
            message = .ping(nonce: try r.readUInt64("ping.nonce"))
        case .pong:
            message = .pong(nonce: try r.readUInt64("pong.nonce"))
        case .getaddr:
            message = .getaddr
        case .addr:
            let count = Int(try r.readUInt16("addr.count"))
            try r.checkCount(count, limit: limits.maxAddrEntries, minItemSize: AddressEntry.encodedLength, "addr.entries")
            var entries: [AddressEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let address = try decodeAddress(&r, "addr.address")
                let lastSeen = try r.readUInt32("addr.lastSeen")
                let services = Services(rawValue: try r.readUInt64("addr.services"))
                entries.append(AddressEntry(address: address, lastSeen: lastSeen, services: services))
            }
            message = .addr(entries)
        case .reject:
            let code = ReasonCode(rawValue: try r.readUInt8("reject.code"))
            let rejected = try r.readUInt8("reject.command")
            let reason = try r.readShortString(limit: limits.maxRejectReason, "reject.reason")
            message = .reject(RejectMessage(code: code, command: rejected, reason: reason))
        case .bye:
            let code = ReasonCode(rawValue: try r.readUInt8("bye.code"))
            let reason = try r.readShortString(limit: limits.maxByeReason, "bye.reason")
            message = .bye(ByeMessage(code: code, reason: reason))
        case .object:
            guard r.remaining > 0 else { throw WireError(.invalidValue, "object payload is empty") }
            guard r.remaining <= limits.maxObject else {
                throw WireError(.lengthOverLimit, "object of \(r.remaining) bytes exceeds limit \(limits.maxObject)")
            }
            message = .object(r.readRest())
        case .custom:
            let typeID = try r.readUInt32("custom.typeID")
            guard r.remaining <= limits.maxCustomBody else {
                throw WireError(.lengthOverLimit, "custom body of \(r.remaining) bytes exceeds limit \(limits.maxCustomBody)")
            }
            message = .custom(CustomObject(typeID: typeID, body: r.readRest()))
        case .inv:
            message = .inv(try decodeInventory(&r, limit: limits.maxInventory, "inv"))
        case .getdata:
            message = .getdata(try decodeInventory(&r, limit: limits.maxInventory, "getdata"))
        case .prune:
            message = .prune(try decodeStripes(&r, "prune.stripes"))
        case .graft:
            let stripes = try decodeStripes(&r, "graft.stripes")
            message = .graft(stripes, try decodeInventory(&r, limit: limits.maxInventory, allowEmpty: true, "graft"))
        case .syncrange:
            message = .syncRanges(try SyncRanges.decode(&r, maxIDs: limits.maxInventory))
        case .syncget:
            message = .syncGet(try decodeInventory(&r, limit: limits.maxInventory, "syncget"))
        case .syncobject:
            guard r.remaining > 0 else { throw WireError(.invalidValue, "syncobject payload is empty") }
            guard r.remaining <= limits.maxObject else {
                throw WireError(.lengthOverLimit, "syncobject of \(r.remaining) bytes exceeds limit \(limits.maxObject)")
            }
            message = .syncObject(r.readRest())
        }
        try r.expectEnd("message payload")
        return message
    }

    /// A `u16` count (1…limit, or 0…limit with `allowEmpty`, checked against the bytes present before anything is allocated),
    /// then that many 32-byte ids.
    private static func decodeInventory(
        _ r: inout ByteReader, limit: Int, allowEmpty: Bool = false, _ field: StaticString
    ) throws(WireError) -> [InventoryID] {
        let count = Int(try r.readUInt16(field))
        guard count > 0 || allowEmpty else { throw WireError(.invalidValue, "\(field) has no ids (count 0)") }
        try r.checkCount(count, limit: limit, minItemSize: InventoryID.byteLength, field)
        var ids: [InventoryID] = []
        ids.reserveCapacity(count)
        for _ in 0..<count {
            // 32 bytes always make an id.
            guard let id = InventoryID(bytes: try r.readBytes(InventoryID.byteLength, field)) else {
                throw WireError(.invalidValue, "\(field) id is not 32 bytes")
            }
            ids.append(id)
        }
        return ids
    }

    /// A `u8` stripe mask naming at least one stripe.
    private static func decodeStripes(_ r: inout ByteReader, _ field: StaticString) throws(WireError) -> StripeMask {
        let stripes = StripeMask(rawValue: try r.readUInt8(field))
        guard !stripes.isEmpty else { throw WireError(.invalidValue, "\(field) names no stripe (mask 0)") }
        return stripes
    }

    private static func decodeAddress(_ r: inout ByteReader, _ field: StaticString) throws(WireError) -> Recipient {
        let raw = try r.readBytes(Recipient.byteLength, field)
        do {
            return try Recipient(bytes: raw)
        } catch {
            throw WireError(.invalidValue, "\(field) is not a valid Nym address: \(error.reason)")
        }
    }
}

extension Message {
    /// Whether a peer with `limits` would accept this message's payload: what a sender checks
    /// before it spends mixnet packets on something the peer would refuse as malformed.
    public func fits(_ limits: WireLimits) -> Bool {
        switch self {
        case .object(let bytes): !bytes.isEmpty && bytes.count <= limits.maxObject
        case .inv(let ids), .getdata(let ids): !ids.isEmpty && ids.count <= limits.maxInventory
        case .graft(let stripes, let ids): !stripes.isEmpty && ids.count <= limits.maxInventory
        case .custom(let object): object.body.count <= limits.maxCustomBody
        case .addr(let entries): entries.count <= limits.maxAddrEntries
        case .reject(let r): r.reason.utf8.count <= limits.maxRejectReason
        case .bye(let b): b.reason.utf8.count <= limits.maxByeReason
        case .version(let v): v.userAgent.utf8.count <= limits.maxUserAgent
        case .syncGet(let ids): !ids.isEmpty && ids.count <= limits.maxInventory
        case .syncObject(let bytes): !bytes.isEmpty && bytes.count <= limits.maxObject
        case .syncRanges(let r): r.ranges.count <= SyncRanges.maxRanges && r.idCount <= limits.maxInventory
        case .prune(let stripes): !stripes.isEmpty
        case .verack, .ping, .pong, .getaddr: true
        }
    }
}
