import Foundation
import GRDB
import Logging
import NIOCore
import NIOPosix
import NymbusPubSub
import NymbusTestSupport
import Testing

@testable import NymbusBroker

/// Publisher order for XADD entries sent to other nodes (spec/broker.md "Order", "The outbox"):
/// each connection numbers its entries per channel under a tag of its own, the tag and number
/// are stored with the outbox row in the XADD's transaction, and a refused write gives its
/// numbers out again.
@Suite struct OutboxOrderTests {
    /// Sends every XADD to the overlay (what a node's bridge answers for a public topic).
    struct OverlayBackend: BrokerBackend {
        func publish(_ messages: [BrokerMessage]) async -> [BrokerBackendError?] { messages.map { _ in nil } }
        func interestChanged(channels: Set<[UInt8]>, patterns: Set<[UInt8]>) async {}
        func nymbusCommand(_ arguments: [[UInt8]]) async throws(BrokerBackendError) -> RESPValue { .null }
        func streamDestination(channel: [UInt8], payloadBytes: Int) throws(BrokerBackendError) -> StreamDestination {
            .overlay
        }
    }

    static func command(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    /// (channel, tag, number) of every outbox row, oldest first.
    static func rows(_ store: SQLiteStreamStore) throws -> [(String, UInt64, UInt32)] {
        try store.outboxRows(limit: 100).map { row in
            let order = try #require(row.item.order)
            return (String(decoding: row.item.channel, as: UTF8.self), order.tag, order.number)
        }
    }

    @Test func eachConnectionNumbersItsEntriesPerChannelAndARefusedWriteLeavesNoGap() async throws {
        let directory = temporaryDirectory("outbox-order")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sqlite = try SQLiteStreamStore(path: directory + "/streams.sqlite")
        let store = ScriptedStreamStore(sqlite)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let replies = try await loop.submit { () -> [String] in
            let (state, outputs, clients) = BrokerState.twoConnections(over: store)
            state.backend = OverlayBackend()
            let (a, b) = (clients[0], clients[1])
            for value in ["a0", "a1"] { _ = state.execute(Self.command("XADD", "ch1", "*", "f", value), from: a) }
            _ = state.execute(Self.command("XADD", "ch2", "*", "message", "a-other"), from: a)
            _ = state.execute(Self.command("XADD", "ch1", "*", "f", "b0"), from: b)
            state.commitPendingStreams()
            // A refused write: its number is given out again to the next XADD.
            store.failNext = true
            _ = state.execute(Self.command("XADD", "ch1", "*", "f", "lost"), from: a)
            state.commitPendingStreams()
            _ = state.execute(Self.command("XADD", "ch1", "*", "f", "a2"), from: a)
            _ = state.execute(Self.command("XADD", "ch1", "*", "f", "b1"), from: b)
            state.commitPendingStreams()
            // A connection that closes forgets its tags; a new one starts a new tag at 0.
            state.unregister(a)
            #expect(state.streams.outboxPublishers == 1)
            let c = state.register(output: RecordingOutput())!
            _ = state.execute(Self.command("XADD", "ch1", "*", "f", "c0"), from: c)
            state.commitPendingStreams()
            return outputs.map { $0.take() }
        }.get()
        #expect(
            replies == [
                "$6\r\n1000-0\r\n$6\r\n1000-1\r\n$6\r\n1000-0\r\n-ERR stream store: disk full\r\n$6\r\n1000-3\r\n",
                "$6\r\n1000-2\r\n$6\r\n1000-4\r\n",
            ])
        let rows = try Self.rows(sqlite)
        #expect(rows.map(\.0) == ["ch1", "ch1", "ch2", "ch1", "ch1", "ch1", "ch1"])
        #expect(rows.map(\.2) == [0, 1, 0, 0, 2, 1, 0])
        let (tagA1, tagA2, tagB, tagC) = (rows[0].1, rows[2].1, rows[3].1, rows[6].1)
        #expect(rows[1].1 == tagA1 && rows[4].1 == tagA1 && rows[5].1 == tagB)
        #expect(Set([tagA1, tagA2, tagB, tagC]).count == 4)
        // The payloads are what travels: a `message` entry as raw bytes, others as stream entries.
        let items = try sqlite.outboxRows(limit: 100).map(\.item)
        #expect(items[2].objectType == ObjectType.rawBytes && items[2].payload == Array("a-other".utf8))
        #expect(items[4].objectType == ObjectType.streamEntry)
        #expect(try StreamEntryPayload.decode(items[4].payload, maxItem: 100) == [Array("f".utf8), Array("a2".utf8)])
        sqlite.close()
        // Tags and numbers survive reopening the store (a restart).
        let reopened = try SQLiteStreamStore(path: directory + "/streams.sqlite")
        #expect(try Self.rows(reopened).map { "\($0.0) \($0.1) \($0.2)" } == rows.map { "\($0.0) \($0.1) \($0.2)" })
        reopened.close()
        try await group.shutdownGracefully()
    }

    /// A store written before outbox rows had a tag: it opens, its rows come back unnumbered,
    /// and new rows are stored with their numbers.
    @Test func aStoreFromBeforeTagsIsMigratedKeepingItsRows() throws {
        let directory = temporaryDirectory("outbox-migrate")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/streams.sqlite"
        do {
            let old = try DatabaseQueue(path: path)
            try old.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, channel BLOB NOT NULL,
                            type INTEGER NOT NULL, payload BLOB NOT NULL, sealed BLOB, sent_at INTEGER);
                        INSERT INTO outbox(channel, type, payload) VALUES (x'6a6f6273', 0, x'6869');
                        """)
            }
        }
        let store = try SQLiteStreamStore(path: path)
        let old = try store.outboxRows(limit: 10)
        #expect(old == [.init(sequence: 1, item: OutboxItem(channel: Array("jobs".utf8), objectType: 0, payload: Array("hi".utf8)), sealed: nil, sentAt: nil)])
        let order = PublisherSequence(tag: 0xFEDC_BA98_7654_3210, number: 4_000_000_000)
        try store.apply([], outbox: [OutboxItem(channel: Array("jobs".utf8), objectType: 0, payload: [1], order: order)])
        let rows = try store.outboxRows(limit: 10)
        #expect(rows.count == 2)
        #expect(rows[1].item.order == order)
        store.close()
    }
}
