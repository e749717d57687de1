/// Sizes of Redis's listpack encoding, so the stream engine starts a new node (a "radix tree key")
/// exactly where Redis does: after `stream-node-max-entries` (100) entries or when the node would
/// reach `stream-node-max-bytes` (4096). Approximate trimming (`MAXLEN ~`) removes whole nodes, so
/// these boundaries decide what `XTRIM ~` removes and what `XINFO STREAM` reports.
enum Listpack {
    /// `stream-node-max-entries`.
    static let nodeMaxEntries = 100
    /// `stream-node-max-bytes`.
    static let nodeMaxBytes = 4096
    /// Header (total bytes, element count) plus the end byte.
    static let emptyBytes = 7

    /// Bytes one element holding `value` as an integer takes, back-length included.
    static func integerSize(_ value: Int64) -> Int {
        let encoded: Int
        switch value {
        case 0...127: encoded = 1
        case -4096...4095: encoded = 2
        case -32768...32767: encoded = 3
        case -8_388_608...8_388_607: encoded = 4
        case Int64(Int32.min)...Int64(Int32.max): encoded = 5
        default: encoded = 9
        }
        return encoded + backlenSize(encoded)
    }

    /// Bytes one element holding `bytes` takes (stored as an integer when it is one).
    static func stringSize(_ bytes: [UInt8]) -> Int {
        if bytes.count <= 20, let value = BrokerState.integer(bytes) { return integerSize(value) }
        let encoded: Int
        switch bytes.count {
        case 0...63: encoded = 1 + bytes.count
        case 64...4095: encoded = 2 + bytes.count
        default: encoded = 5 + bytes.count
        }
        return encoded + backlenSize(encoded)
    }

    static func backlenSize(_ length: Int) -> Int {
        switch length {
        case ...127: 1
        case ..<16383: 2
        case ..<2_097_151: 3
        case ..<268_435_455: 4
        default: 5
        }
    }
}
