import Testing

@testable import NymbusBroker

/// The stream engine as a value: ids, retention, pending lists (the byte-level behaviour is
/// compared with redis-server in StreamsCompareTests).
@Suite struct RedisStreamTests {
    private func filled(_ count: Int, valueBytes: Int = 10) throws -> RedisStream {
        var stream = RedisStream()
        for index in 1...count {
            _ = try stream.append(
                fields: [Array("f".utf8), [UInt8](repeating: 7, count: valueBytes)], id: StreamID(ms: UInt64(index), seq: 0),
                now: 0)
        }
        return stream
    }

    @Test func automaticIdsNeverGoBackwards() throws {
        var stream = RedisStream()
        let result1 = try stream.append(fields: [[1], [2]], id: nil, now: 1000) == StreamID(ms: 1000, seq: 0)
        #expect(result1)
        let result2 = try stream.append(fields: [[1], [2]], id: nil, now: 999) == StreamID(ms: 1000, seq: 1)
        #expect(result2)
        let result3 = try stream.append(fields: [[1], [2]], id: StreamID(ms: 1000, seq: 0), seqGiven: false, now: 0) == StreamID(ms: 1000, seq: 2)
        #expect(result3)
        #expect(throws: RedisStream.AppendError.idTooSmall) {
            try stream.append(fields: [[1], [2]], id: StreamID(ms: 1000, seq: 2), now: 0)
        }
        #expect(stream.entriesAdded == 3)
        #expect(stream.changes.filter { if case .entry = $0 { return true } else { return false } }.count == 3)
    }

    @Test func retentionKeepsTheNewestWithinLengthBytesAndAge() throws {
        var stream = try filled(50)
        let result4 = stream.applyRetention(StreamRetention(maxLength: 20, maxAge: .zero, maxBytes: 0), now: 0)
        #expect(result4 == 30)
        #expect(stream.length == 20)
        #expect(stream.live.first?.id == StreamID(ms: 31, seq: 0))
        // 11 bytes per entry: 100 bytes keep the newest 9.
        let result5 = stream.applyRetention(StreamRetention(maxLength: 0, maxAge: .zero, maxBytes: 100), now: 0)
        #expect(result5 == 11)
        #expect(stream.length == 9)
        #expect(stream.payloadBytes == 99)
        // Age: at 55 ms with a 10 ms limit, entries before 45 go.
        let result6 = stream.applyRetention(StreamRetention(maxLength: 0, maxAge: .milliseconds(10), maxBytes: 0), now: 55)
        #expect(result6 == 3)
        #expect(stream.live.map(\.id.ms) == Array(45...50))
        #expect(stream.firstID == StreamID(ms: 45, seq: 0))
        let result7 = stream.applyRetention(StreamRetention(), now: 55)
        #expect(result7 == 0)
    }

    @Test func groupsTrackPendingEntriesPerConsumer() throws {
        var stream = try filled(5)
        let result8 = stream.createGroup([0x67], lastID: .zero, entriesRead: -1)
        #expect(result8)
        let result9 = stream.createGroup([0x67], lastID: .zero, entriesRead: -1)
        #expect(!result9)
        stream.touchConsumer([0x67], [0x61], now: 100)
        let read = stream.readGroup([0x67], consumer: [0x61], after: .zero, count: 3, noAck: false, now: 100)
        #expect(read.map(\.id.ms) == [1, 2, 3])
        #expect(stream.groups[[0x67]]?.lastID == StreamID(ms: 3, seq: 0))
        #expect(stream.groups[[0x67]]?.entriesRead == 3)
        #expect(stream.lag(stream.groups[[0x67]]!) == 2)
        let result10 = stream.acknowledge([0x67], [StreamID(ms: 2, seq: 0), StreamID(ms: 9, seq: 0)])
        #expect(result10 == 1)
        stream.transfer([0x67], StreamID(ms: 3, seq: 0), to: [0x62], deliveryTime: 200, deliveryCount: nil, increment: true, now: 200)
        #expect(stream.groups[[0x67]]?.consumers[[0x61]]?.pending.ids == [StreamID(ms: 1, seq: 0)])
        #expect(stream.groups[[0x67]]?.consumers[[0x62]]?.pending.ids == [StreamID(ms: 3, seq: 0)])
        #expect(stream.groups[[0x67]]?.pending[StreamID(ms: 3, seq: 0)]?.deliveryCount == 2)
        let result11 = stream.deleteConsumer([0x67], [0x62])
        #expect(result11 == 1)
        #expect(stream.groups[[0x67]]?.pendingOrder.ids == [StreamID(ms: 1, seq: 0)])
        // A deleted entry still pending comes back in history with no fields.
        let result12 = stream.delete([StreamID(ms: 1, seq: 0)])
        #expect(result12 == 1)
        let history = stream.readHistory([0x67], consumer: [0x61], after: .zero, count: 0, now: 300)
        #expect(history.count == 1 && history[0].fields == nil)
    }
}
