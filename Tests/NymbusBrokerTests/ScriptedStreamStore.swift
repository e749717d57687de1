import Logging

@testable import NymbusBroker

/// A stream store for tests: stores through `inner` (none: stores nothing, loads nothing),
/// records the keys of every stored transaction, and refuses the next write when asked.
final class ScriptedStreamStore: StreamStorage, @unchecked Sendable {
    let inner: SQLiteStreamStore?
    /// Keys of each transaction stored, in order.
    var transactions: [[String]] = []
    /// Refuse the next write with "disk full".
    var failNext = false

    init(_ inner: SQLiteStreamStore? = nil) { self.inner = inner }

    func loadAll() throws(StreamStoreError) -> [[UInt8]: StoredStream] { try inner?.loadAll() ?? [:] }
    func load(_ key: [UInt8]) throws(StreamStoreError) -> StoredStream? { try inner?.load(key) }
    func apply(
        _ batch: [(key: [UInt8], stream: StoredStream?, changes: [StreamChange])], outbox: [OutboxItem]
    ) throws(StreamStoreError) {
        if failNext {
            failNext = false
            throw StreamStoreError("disk full")
        }
        try inner?.apply(batch, outbox: outbox)
        transactions.append(batch.map { String(decoding: $0.key, as: UTF8.self) })
    }
}

extension BrokerState {
    /// A broker state on the current event loop over `store`, its clock at 1000 ms, with two
    /// connections writing into recording outputs.
    static func twoConnections(
        over store: ScriptedStreamStore
    ) -> (state: BrokerState, outputs: [RecordingOutput], clients: [BrokerClient]) {
        let (_, interest) = AsyncStream.makeStream(of: InterestSnapshot.self)
        let state = BrokerState(
            configuration: BrokerConfiguration(socketPath: "/tmp/unused.sock"), logger: Logger(label: "test"),
            interest: interest, streamStore: store)
        state.clock = { 1_000 }
        let outputs = [RecordingOutput(), RecordingOutput()]
        let clients = outputs.map { state.register(output: $0)! }
        return (state, outputs, clients)
    }
}
