import FoundationEssentials
import NymClient
import NymbusCrypto
import NymbusTestSupport
import NymbusTransport
import NymbusWire
import Testing

@testable import NymbusNode

@Suite struct DiscouragementStoreTests {
    @Test func roundTripsAndDropsExpiredEntriesOnLoad() throws {
        let dir = "/tmp/nymbus-discouraged-\(SessionIDForTests.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = DiscouragementStore(directory: dir)
        #expect(try store.load(duration: 100, capacity: 10, now: 0) == nil)
        var list = DiscouragementList(duration: 100)
        let a = Recipient.random()
        let b = Recipient.random()
        let tag = try SenderTag(bytes: Array(repeating: 7, count: 16))
        list.discourage(.address(a), now: 1000)
        list.discourage(.tag(tag), now: 1050)
        list.discourage(.address(b), now: 1100)
        try store.save(list)
        let attributes = try FileManager.default.attributesOfItem(atPath: store.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["discouraged.json"])  // no temp file left

        let all = try #require(try store.load(duration: 100, capacity: 10, now: 1000))
        #expect(all.expiries == [.address(a): 1100, .tag(tag): 1150, .address(b): 1200])
        #expect(!all.isDirty)
        // At 1100 the first entry has expired: dropped on load, and the list wants saving.
        let later = try #require(try store.load(duration: 100, capacity: 10, now: 1100))
        #expect(later.expiries == [.tag(tag): 1150, .address(b): 1200])
        #expect(later.isDirty)
        // Over capacity: the entries that expire last are kept.
        let small = try #require(try store.load(duration: 100, capacity: 2, now: 1000))
        #expect(small.expiries == [.tag(tag): 1150, .address(b): 1200])
    }

    @Test func aCorruptFileIsKeptAsideAndReported() throws {
        let dir = "/tmp/nymbus-discouraged-\(SessionIDForTests.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = DiscouragementStore(directory: dir)
        let bad: [String] = [
            "{ not json",
            #"{"format":2,"entries":[]}"#,
            #"{"format":1,"entries":[{"kind":"address","value":"nope","expires":5}]}"#,
            #"{"format":1,"entries":[{"kind":"ip","value":"1.2.3.4","expires":5}]}"#,
        ]
        for (n, text) in bad.enumerated() {
            try Data(text.utf8).write(to: URL(filePath: store.path))
            #expect(throws: NodeError(.corruptDiscouragementList, "")) {
                try store.load(duration: 100, capacity: 10, now: Int64(n))
            }
            #expect(!FileManager.default.fileExists(atPath: store.path))
            #expect(try Data(contentsOf: URL(filePath: store.path + ".corrupt-\(n)")) == Data(text.utf8))
        }
    }
}

extension NodeSingleTests {
    @Test func discouragementSurvivesARestartUntilItExpires() async throws {
        let dir = "/tmp/nymbus-node-discouraged-\(SessionIDForTests.unique())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock()
        var config = testConfiguration(clock: clock)
        config.dataDirectory = dir
        let file = dir + "/discouraged.json"

        // A visible peer and a hidden peer misbehave.
        let t1 = ScriptedTransport()
        let node1 = Node(transport: t1, configuration: config, logger: testLogger())
        try await node1.start()
        let rude = Recipient.random()
        let s1 = await visibleHandshake(node1, t1, from: rude)
        var garbage = Envelope(sessionID: s1, message: .ping(nonce: 1)).encode()
        garbage[5] = Command.version.rawValue
        t1.inject(garbage)
        _ = await t1.log.waitFor { $0.envelope?.sessionID == s1 && $0.message?.command == .bye }
        let tag = SenderTag.random()
        let s2 = SessionID.random()
        t1.inject(.version(Handshakes.version(nonce: 8)), session: s2, tag: tag)
        let answers = await t1.log.waitFor(2) { $0.kind == .reply(tag) }
        guard case .version(let theirs)? = answers.first(where: { $0.message?.command == .version })?.message else {
            Issue.record("no version")
            return
        }
        t1.inject(.verack(VerackMessage(echoNonce: theirs.nonce)), session: s2, tag: tag)
        #expect(await eventually { await node1.peers().count == 1 })
        t1.inject(SecureRandom.bytes(50), tag: tag)  // not even an envelope
        _ = await t1.log.waitFor { $0.kind == .reply(tag) && $0.message?.command == .bye }
        #expect(await node1.statistics.discouragements == 2)
        // The next timer tick writes the list (0600); no need to wait for stop().
        #expect(!FileManager.default.fileExists(atPath: file))
        await clock.advance(by: .seconds(1), running: node1)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let saved = try JSONDecoder().decode(DiscouragementStore.File.self, from: Data(contentsOf: URL(filePath: file)))
        let until = clock.unix - 1 + 24 * 3600
        #expect(
            Set(saved.entries.map { "\($0.kind) \($0.value) \($0.expires)" }) == [
                "address \(rude) \(until)", "tag \(tag) \(until)",
            ])
        await node1.stop()

        // 23 hours later a restarted node still refuses both.
        clock.advance(by: .seconds(23 * 3600))
        let t2 = ScriptedTransport()
        let node2 = Node(transport: t2, configuration: config, logger: testLogger())
        try await node2.start()
        #expect(await node2.isDiscouraged(rude))
        await #expect(throws: NodeError(.discouraged, "")) { try await node2.connect(to: rude) }
        let again = SessionID.random()
        t2.inject(.version(Handshakes.version(nonce: 9, address: rude)), session: again)
        let refusal = await t2.log.waitFor { $0.envelope?.sessionID == again }
        #expect(
            refusal.map(\.message) == [
                .bye(ByeMessage(code: .protocolViolation, reason: "discouraged after misbehaving"))
            ])
        let hiddenAgain = SessionID.random()
        t2.inject(.version(Handshakes.version(nonce: 10)), session: hiddenAgain, tag: tag)
        let hiddenRefusal = await t2.log.waitFor { $0.envelope?.sessionID == hiddenAgain }
        #expect(hiddenRefusal.first?.kind == .reply(tag) && hiddenRefusal.first?.message?.command == .bye)
        #expect(await node2.statistics.refusedDiscouraged == 2)
        await node2.stop()

        // After 24 hours the entries have expired: dropped on load, and the file rewritten without them.
        clock.advance(by: .seconds(3600))
        let t3 = ScriptedTransport()
        let node3 = Node(transport: t3, configuration: config, logger: testLogger())
        try await node3.start()
        #expect(await !node3.isDiscouraged(rude))
        let rewritten = try JSONDecoder().decode(
            DiscouragementStore.File.self, from: Data(contentsOf: URL(filePath: file)))
        #expect(rewritten.entries.isEmpty)
        _ = await visibleHandshake(node3, t3, from: rude)
        await node3.stop()

        // A corrupt list stops the start, kept aside, unless told to go on.
        try Data("[]".utf8).write(to: URL(filePath: file))
        let node4 = Node(transport: ScriptedTransport(), configuration: config, logger: testLogger())
        await #expect(throws: NodeError(.corruptDiscouragementList, "")) { try await node4.start() }
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir).contains {
                $0.hasPrefix("discouraged.json.corrupt-")
            })
        try Data("[]".utf8).write(to: URL(filePath: file))
        var lenient = config
        lenient.continueWithCorruptDiscouragementList = true
        let node5 = Node(transport: ScriptedTransport(), configuration: lenient, logger: testLogger())
        try await node5.start()
        await node5.stop()
    }
}
