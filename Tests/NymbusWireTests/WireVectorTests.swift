import Foundation
import NymbusCrypto
import NymbusTestSupport
import NymbusWire
import Testing

/// Reads spec/vectors/wire.txt: the spec's vectors are the tests' truth, so they cannot drift apart.
struct WireVectors {
    struct Invalid { let name: String; let code: String; let bytes: [UInt8] }
    let valid: [String: [UInt8]]
    let invalid: [Invalid]

    static let shared: WireVectors = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("spec/vectors/wire.txt")
        let text = try! String(contentsOf: url, encoding: .utf8)
        var valid: [String: [UInt8]] = [:]
        var invalid: [Invalid] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ").map(String.init)
            switch parts[0] {
            case "valid": valid[parts[1]] = try! Hex.decode(parts[2])
            case "invalid": invalid.append(Invalid(name: parts[1], code: parts[2], bytes: try! Hex.decode(parts.count > 3 ? parts[3] : "")))
            default: fatalError("bad vector line \(line)")
            }
        }
        return WireVectors(valid: valid, invalid: invalid)
    }()
}

enum Fixtures {
    static let session = try! SessionID(bytes: Array(0..<16))
    static let address1 = try! Recipient(
        string: "CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV.4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe@4sBbL1ngf1vtNqykydQKTFh26sQCw888GpUqvPvyNB4f")
    static let address2 = try! Recipient(
        identityKey: try! Hex.decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
        encryptionKey: [UInt8](repeating: 0x42, count: 32),
        gatewayKey: try! Hex.decode("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"))

    /// The value each valid vector must decode to.
    static let messages: [String: Message] = [
        "version-visible": .version(VersionMessage(
            protocolVersion: 1, services: [.relay, .acceptsInbound], timestamp: 1_764_000_000,
            nonce: 0x0102_0304_0506_0708, userAgent: "/nymbus:0.1/", returnAddress: address1)),
        "version-hidden": .version(VersionMessage(
            protocolVersion: 1, services: [.relay], timestamp: 1_764_000_000, nonce: 0xA1A2_A3A4_A5A6_A7A8,
            userAgent: "/nymbus:0.1/", returnAddress: nil)),
        "verack": .verack(VerackMessage(echoNonce: 0x0102_0304_0506_0708)),
        "ping": .ping(nonce: 0x1122_3344_5566_7788),
        "pong": .pong(nonce: 0x1122_3344_5566_7788),
        "getaddr": .getaddr,
        "addr-empty": .addr([]),
        "addr-two": .addr([
            AddressEntry(address: address1, lastSeen: 1_764_000_000, services: [.relay, .acceptsInbound]),
            AddressEntry(address: address2, lastSeen: 1_763_999_400, services: [.relay]),
        ]),
        "reject": .reject(RejectMessage(code: .malformed, command: Command.addr.rawValue, reason: "addr has 1001 entries")),
        "bye": .bye(ByeMessage(code: .flood, reason: "flood")),
        "object": .object([0xDE, 0xAD, 0xBE, 0xEF]),
        "custom": .custom(CustomObject(typeID: 0x0001_0000, body: Array("hello".utf8))),
        "inv-one": .inv([id1]),
        "inv-two": .inv([id1, id2]),
        "getdata-one": .getdata([id2]),
        "getdata-three": .getdata([id2, id1, id3]),
        "prune": .prune(StripeMask(stripe: 0)),
        "prune-both": .prune([StripeMask(stripe: 0), StripeMask(stripe: 1)]),
        "graft-empty": .graft(StripeMask(stripe: 1), []),
        "graft-two": .graft(StripeMask(stripe: 0), [id3, id1]),
        "syncrange-question": .syncRanges(SyncRanges(round: 1, isReply: false, ranges: [
            SyncRange(upper: SyncBound(timestamp: 29_000_000, prefix: []), mode: .skip),
            SyncRange(upper: SyncBound(timestamp: 29_000_100, prefix: [0x20, 0x21]), mode: .fingerprint(Array(0x60..<0x70))),
            SyncRange(upper: .infinity, mode: .idList([id1, id2])),
        ])),
        "syncrange-done": .syncRanges(SyncRanges(round: 7, isReply: true, ranges: [])),
        "syncrange-reply": .syncRanges(SyncRanges(round: 2, isReply: true, ranges: [
            SyncRange(upper: SyncBound(timestamp: 29_000_050, prefix: []), mode: .idList([])),
            SyncRange(upper: .infinity, mode: .skip),
        ])),
        "syncget-two": .syncGet([id2, id1]),
        "syncobject": .syncObject([0xCA, 0xFE]),
    ]

    static let id1 = InventoryID(bytes: Array(0x20..<0x40))!
    static let id2 = InventoryID(bytes: [UInt8](repeating: 0xFF, count: 32))!
    static let id3 = InventoryID(bytes: [UInt8](repeating: 0, count: 32))!
}

@Suite struct WireVectorTests {
    @Test func everyCommandHasAVector() {
        let covered = Set(Fixtures.messages.values.map(\.command))
        #expect(covered == Set(Command.allCases))
        #expect(Set(WireVectors.shared.valid.keys) == Set(Fixtures.messages.keys))
    }

    @Test(arguments: Fixtures.messages.keys.sorted())
    func validVectorEncodesAndDecodes(name: String) throws {
        let bytes = try #require(WireVectors.shared.valid[name])
        let expected = Envelope(sessionID: Fixtures.session, message: try #require(Fixtures.messages[name]))
        #expect(Hex.encode(expected.encode()) == Hex.encode(bytes))
        #expect(try Envelope.decode(bytes) == expected)
    }

    @Test(arguments: WireVectors.shared.invalid.map(\.name))
    func invalidVectorFailsWithItsCode(name: String) throws {
        let vector = try #require(WireVectors.shared.invalid.first { $0.name == name })
        do {
            _ = try Envelope.decode(vector.bytes)
            Issue.record("\(name) decoded but must fail with \(vector.code)")
        } catch {
            #expect(error.code.description == vector.code, "\(name): \(error.reason)")
        }
    }

    /// Every valid vector cut short at every length fails cleanly (never traps, never succeeds).
    @Test(arguments: Fixtures.messages.keys.sorted())
    func everyTruncationFails(name: String) throws {
        let bytes = try #require(WireVectors.shared.valid[name])
        for length in 0..<bytes.count {
            #expect(throws: WireError.self) { try Envelope.decode(Array(bytes[0..<length])) }
        }
    }

    @Test func oversizedObjectAndCustomBodiesAreRefused() throws {
        let object = Envelope(sessionID: Fixtures.session, message: .object([UInt8](repeating: 0, count: 98_305)))
        #expect(throws: WireError(.lengthOverLimit, "")) { try Envelope.decode(object.encode()) }
        let atLimit = Envelope(sessionID: Fixtures.session, message: .object([UInt8](repeating: 1, count: 98_304)))
        #expect(try Envelope.decode(atLimit.encode()) == atLimit)
        let custom = Envelope(
            sessionID: Fixtures.session, message: .custom(CustomObject(typeID: 7, body: [UInt8](repeating: 0, count: 65_537))))
        #expect(throws: WireError(.lengthOverLimit, "")) { try Envelope.decode(custom.encode()) }
    }

    /// 500 ids (the limit) round-trip; 501 built by a careless encoder are refused from the count.
    @Test func inventoryAtTheLimitDecodesAndOneMoreIsRefused() throws {
        let ids = (0..<501).map { i in InventoryID(bytes: (0..<32).map { UInt8(truncatingIfNeeded: i &+ $0) })! }
        let graft = { (ids: [InventoryID]) in Message.graft(.all, ids) }
        for (make, header) in [(Message.inv, 2), (Message.getdata, 2), (graft, 3)] {
            let atLimit = Envelope(sessionID: Fixtures.session, message: make(Array(ids.prefix(500))))
            #expect(atLimit.encode().count == 26 + header + 500 * 32)
            #expect(try Envelope.decode(atLimit.encode()) == atLimit)
            let over = Envelope(sessionID: Fixtures.session, message: make(ids))
            #expect(throws: WireError(.lengthOverLimit, "")) { try Envelope.decode(over.encode()) }
            // A lower configured limit is enforced too.
            var limits = WireLimits.default
            limits.maxInventory = 2
            let three = Envelope(sessionID: Fixtures.session, message: make(Array(ids.prefix(3))))
            #expect(throws: WireError(.lengthOverLimit, "")) { try Envelope.decode(three.encode(), limits: limits) }
        }
    }

    @Test func inventoryIDsAreExactlyThirtyTwoBytes() {
        #expect(InventoryID(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(InventoryID(bytes: [UInt8](repeating: 1, count: 33)) == nil)
        let bytes = Array(0..<32).map(UInt8.init)
        #expect(InventoryID(bytes: bytes)?.bytes == bytes)
        #expect(InventoryID(bytes: bytes)?.description == "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    }

    @Test func addrAtTheLimitDecodes() throws {
        let entries = (0..<1000).map { i in AddressEntry(address: Fixtures.address1, lastSeen: UInt32(i), services: .relay) }
        let envelope = Envelope(sessionID: Fixtures.session, message: .addr(entries))
        #expect(envelope.encode().count == 26 + 2 + 1000 * 108)
        #expect(try Envelope.decode(envelope.encode()) == envelope)
    }

    @Test func randomBytesNeverTrap() {
        var generator = SeededRandom()
        for round in 0..<20_000 {
            var bytes = (0..<Int.random(in: 0...200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Half the inputs get a valid header so the payload decoders are exercised too.
            if round % 2 == 0, bytes.count >= 26 {
                let command = Command.allCases.randomElement(using: &generator)!
                bytes.replaceSubrange(0..<6, with: Envelope.magic + [1, command.rawValue])
                let length = UInt32(bytes.count - 26)
                bytes.replaceSubrange(22..<26, with: withUnsafeBytes(of: length.bigEndian, Array.init))
            }
            do { _ = try Envelope.decode(bytes) } catch {}
        }
    }
}

struct Greeting: WireCodable, Equatable {
    static let wireTypeID: UInt32 = 0x0001_0000
    var text: String
    var count: UInt32

    func serialize(into writer: inout ByteWriter) {
        writer.writeShortString(text)
        writer.write(count)
    }

    init(text: String, count: UInt32) {
        self.text = text
        self.count = count
    }

    init(from reader: inout ByteReader) throws(WireError) {
        text = try reader.readShortString(limit: 64, "greeting.text")
        count = try reader.readUInt32("greeting.count")
    }
}

@Suite struct ObjectTypeRegistryTests {
    @Test func registeredTypeRoundTrips() throws {
        var registry = ObjectTypeRegistry()
        try registry.register(Greeting.self)
        let object = ObjectTypeRegistry.wrap(Greeting(text: "hi", count: 3))
        #expect(object == CustomObject(typeID: 0x0001_0000, body: [2, 0x68, 0x69, 0, 0, 0, 3]))
        let decoded = try registry.decode(object)
        #expect(decoded as? Greeting == Greeting(text: "hi", count: 3))
    }

    @Test func unknownTypeDuplicateAndTrailingBytesAreErrors() throws {
        var registry = ObjectTypeRegistry()
        #expect(throws: WireError(.unknownObjectType, "")) { try registry.decode(CustomObject(typeID: 9, body: [])) }
        try registry.register(Greeting.self)
        #expect(throws: WireError(.invalidValue, "")) { try registry.register(Greeting.self) }
        #expect(throws: WireError(.trailingBytes, "")) {
            try registry.decode(CustomObject(typeID: 0x0001_0000, body: [2, 0x68, 0x69, 0, 0, 0, 3, 0xFF]))
        }
        #expect(throws: WireError(.truncated, "")) {
            try registry.decode(CustomObject(typeID: 0x0001_0000, body: [2, 0x68, 0x69, 0, 0]))
        }
    }
}

@Suite struct ByteReaderTests {
    @Test func lengthsAreCheckedBeforeReading() {
        var r = ByteReader([0xFF, 0xFF, 0xFF, 0xFF, 1, 2])
        #expect(throws: WireError(.lengthOverLimit, "")) { try r.readBytes32(limit: 1024) }
        var s = ByteReader([5, 1, 2])
        #expect(throws: WireError(.truncated, "")) { try s.readShortBytes() }
        var b = ByteReader([2])
        #expect(throws: WireError(.invalidValue, "")) { try b.readBool() }
    }
}
