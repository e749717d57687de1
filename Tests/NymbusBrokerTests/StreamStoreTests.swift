import Foundation
import GRDB
import NIOCore
import NymbusTestSupport
import Testing

@testable import NymbusBroker

/// Streams in SQLite: what a broker stored comes back after a restart, the files are private, a
/// full store refuses with a clear error and keeps what it had, a damaged one is left alone.
@Suite struct StreamStoreTests {
    /// A broker on a fresh socket with a store in the same fresh directory.
    private func startStoredBroker(
        directory: String? = nil, maxPages: Int? = nil, fsync: StreamFsyncPolicy = .everysec
    ) async throws -> (BrokerServer, SQLiteStreamStore, TemporarySocket) {
        let socket = TemporarySocket()
        let dataDirectory = directory ?? socket.directory + "-data"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let store = try SQLiteStreamStore(path: dataDirectory + "/streams.sqlite", fsync: fsync, maxPages: maxPages)
        let broker = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket.path), backend: LoopbackBrokerBackend(),
            logger: quietLogger, streamStore: store)
        try await broker.start()
        return (broker, store, socket)
    }

    private func call(_ client: TestClient, _ words: String...) async throws -> RESPValue {
        var buffer = ByteBuffer()
        RESPWriter.writeCommand(words.map { Array($0.utf8) }, into: &buffer)
        try await client.channel.writeAndFlush(buffer)
        return try await client.read()
    }

    /// Ids, owners and delivery counts of a group's pending entries (idle times left out: they grow).
    private func pendingRows(_ client: TestClient, _ key: String, _ group: String) async throws -> [[RESPValue]] {
        let rows = try await call(client, "XPENDING", key, group, "-", "+", "100").elements ?? []
        return rows.map { row in
            let fields = row.elements ?? []
            return fields.count == 4 ? [fields[0], fields[1], fields[3]] : fields
        }
    }

    @Test func entriesGroupsAndPendingListsSurviveARestart() async throws {
        let (broker, store, socket) = try await startStoredBroker()
        let dataDirectory = socket.directory + "-data"
        defer {
            socket.remove()
            try? FileManager.default.removeItem(atPath: dataDirectory)
        }
        let client = try await TestClient.connect(socket.path)
        for index in 1...30 {
            #expect(try await call(client, "XADD", "jobs", "\(index)-1", "n", "\(index)", "blob", "\u{0}\r\n") == .bulk("\(index)-1"))
        }
        #expect(try await call(client, "XADD", "other", "MAXLEN", "2", "*", "a", "b").bytes?.count ?? 0 > 3)
        #expect(try await call(client, "XGROUP", "CREATE", "jobs", "workers", "0") == .simpleString("OK"))
        #expect(try await call(client, "XGROUP", "CREATE", "jobs", "idle", "$") == .simpleString("OK"))
        #expect(try await call(client, "XREADGROUP", "GROUP", "workers", "w1", "COUNT", "5", "STREAMS", "jobs", ">").elements?.count == 1)
        #expect(try await call(client, "XREADGROUP", "GROUP", "workers", "w2", "COUNT", "3", "STREAMS", "jobs", ">").elements?.count == 1)
        #expect(try await call(client, "XACK", "jobs", "workers", "2-1", "7-1") == .integer(2))
        #expect(try await call(client, "XCLAIM", "jobs", "workers", "w3", "0", "3-1", "JUSTID") == .array([.bulk("3-1")]))
        #expect(try await call(client, "XDEL", "jobs", "30-1", "29-1") == .integer(2))
        #expect(try await call(client, "XTRIM", "jobs", "MINID", "2") == .integer(1))
        let before = [
            try await call(client, "XRANGE", "jobs", "-", "+"), try await call(client, "XPENDING", "jobs", "workers"),
            try await call(client, "XINFO", "GROUPS", "jobs"), try await call(client, "XLEN", "other"),
            try await call(client, "XRANGE", "other", "-", "+"),
        ]
        let pendingBefore = try await pendingRows(client, "jobs", "workers")
        #expect(pendingBefore.count == 6)
        await client.close()
        await broker.stop()
        store.close()

        let (second, secondStore, secondSocket) = try await startStoredBroker(directory: dataDirectory)
        defer { secondSocket.remove() }
        let again = try await TestClient.connect(secondSocket.path)
        let after = [
            try await call(again, "XRANGE", "jobs", "-", "+"), try await call(again, "XPENDING", "jobs", "workers"),
            try await call(again, "XINFO", "GROUPS", "jobs"), try await call(again, "XLEN", "other"),
            try await call(again, "XRANGE", "other", "-", "+"),
        ]
        #expect(after == before)
        #expect(try await pendingRows(again, "jobs", "workers") == pendingBefore)
        // The stream's counters came back too: the next automatic id is after 30-1, ids 29/30 stay deleted.
        #expect(try await call(again, "XADD", "jobs", "30-1", "x", "y") == .err("The ID specified in XADD is equal or smaller than the target stream top item"))
        let info = try await call(again, "XINFO", "STREAM", "jobs")
        guard case .array(let fields?) = info else { Issue.record("XINFO STREAM: \(info)"); return }
        #expect(fields[7] == .bulk("30-1"))  // last-generated-id
        #expect(fields[11] == .integer(30))  // entries-added
        #expect(fields[9] == .bulk("30-1"))  // max-deleted-entry-id
        await again.close()
        await second.stop()
        secondStore.close()
    }

    @Test func storeFilesAreReadableByTheOwnerOnly() async throws {
        let (broker, store, socket) = try await startStoredBroker()
        let dataDirectory = socket.directory + "-data"
        defer {
            socket.remove()
            try? FileManager.default.removeItem(atPath: dataDirectory)
        }
        let client = try await TestClient.connect(socket.path)
        #expect(try await call(client, "XADD", "s", "1-1", "a", "b") == .bulk("1-1"))
        for name in ["streams.sqlite", "streams.sqlite-wal", "streams.sqlite-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: dataDirectory + "/" + name)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(name)")
        }
        await client.close()
        await broker.stop()
        store.close()
    }

    @Test func aFullStoreRefusesWithAClearErrorAndKeepsWhatItStored() async throws {
        let (broker, store, socket) = try await startStoredBroker(maxPages: 48, fsync: .always)
        let dataDirectory = socket.directory + "-data"
        defer {
            socket.remove()
            try? FileManager.default.removeItem(atPath: dataDirectory)
        }
        let client = try await TestClient.connect(socket.path)
        let value = String(repeating: "v", count: 2000)
        var stored: [String] = []
        var refusal: RESPValue?
        for index in 1...500 {
            let reply = try await call(client, "XADD", "big", "\(index)-0", "f", value)
            if case .error = reply {
                refusal = reply
                break
            }
            #expect(reply == .bulk("\(index)-0"))
            stored.append("\(index)-0")
        }
        let error = try #require(refusal, "the store never filled up")
        guard case .error(let text) = error else { return }
        #expect(text.hasPrefix("ERR stream store: cannot write to '\(dataDirectory)/streams.sqlite': database or disk is full"), "\(text)")
        #expect(stored.count > 10)
        // Memory went back to what the store holds: nothing was half-added.
        #expect(try await call(client, "XLEN", "big") == .integer(Int64(stored.count)))
        #expect(try await call(client, "PING") == .simpleString("PONG"))
        await client.close()
        await broker.stop()
        store.close()

        let reopened = try SQLiteStreamStore(path: dataDirectory + "/streams.sqlite")
        let streams = try reopened.loadAll()
        #expect(streams[Array("big".utf8)]?.stream.live.map(\.id.description) == stored)
        reopened.close()
    }

    @Test func aDamagedStoreIsRefusedAndLeftAsItIs() throws {
        let directory = "/tmp/nbt-damaged-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/streams.sqlite"
        var generator = SplitMix64(seed: 13)
        let garbage = Data((0..<8192).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        try garbage.write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteStreamStore(path: path)
            Issue.record("a damaged store was opened")
        } catch {
            #expect(error.reason.hasPrefix("the stream store '\(path)' cannot be opened ("), "\(error.reason)")
            #expect(error.reason.hasSuffix("it is left as it is: move it away to start with an empty store, or restore a copy"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    /// A store whose file opens but holds a damaged row (an entry's field list cut short): the
    /// broker refuses to start with a message naming the file and the damage, and the file keeps
    /// every row, the damaged one as it was, for the owner to repair or restore.
    @Test func aDamagedRowStopsTheStartAndLosesNothing() async throws {
        let (broker, store, socket) = try await startStoredBroker(fsync: .always)
        let dataDirectory = socket.directory + "-data"
        defer {
            socket.remove()
            try? FileManager.default.removeItem(atPath: dataDirectory)
        }
        let client = try await TestClient.connect(socket.path)
        for index in 1...3 { #expect(try await call(client, "XADD", "kept", "\(index)-0", "f", "v\(index)") == .bulk("\(index)-0")) }
        await client.close()
        await broker.stop()
        store.close()
        let path = dataDirectory + "/streams.sqlite"
        // Damage one row from outside, as a bad disk or a stray writer would.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in try db.execute(sql: "UPDATE entries SET fields = x'00000003' WHERE ms = 2") }
        try queue.close()

        let again = try SQLiteStreamStore(path: path)
        do {
            _ = try again.loadAll()
            Issue.record("a damaged row was read")
        } catch {
            #expect(error.reason == "cannot read '\(path)': a stored entry has an invalid field count 3")
        }
        let restarted = BrokerServer(
            configuration: BrokerConfiguration(socketPath: socket.path), backend: LoopbackBrokerBackend(),
            logger: quietLogger, streamStore: again)
        do {
            try await restarted.start()
            Issue.record("a broker started on a damaged store")
            await restarted.stop()
        } catch {
            #expect("\(error)".contains("cannot read the stream store: cannot read '\(path)': a stored entry has an invalid field count 3"), "\(error)")
        }
        again.close()
        // Nothing was repaired away or dropped: every row is still there, the damaged one as it was.
        let rows = try await DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT ms, fields FROM entries ORDER BY ms").map { "\($0[0] as Int64) \(($0[1] as Data).count)" }
        }
        #expect(rows == ["1 15", "2 4", "3 15"])
    }

    @Test func storedFieldListsAreCheckedBeforeAllocating() {
        let fields: [[UInt8]] = [[1, 2], [], [0, 13, 10]]
        let encoded = SQLiteStreamStore.encode(fields + [[9]])
        #expect((try? SQLiteStreamStore.decode(encoded)) == fields + [[9]])
        #expect(throws: StreamStoreError.self) { try SQLiteStreamStore.decode(Array(encoded.dropLast())) }
        #expect(throws: StreamStoreError.self) { try SQLiteStreamStore.decode([0xFF, 0xFF, 0xFF, 0xFF]) }
        #expect(throws: StreamStoreError.self) { try SQLiteStreamStore.decode(encoded + [0]) }
        #expect(throws: StreamStoreError.self) { try SQLiteStreamStore.decode([0, 0, 0, 1, 0, 0, 0, 0]) }
    }
}

