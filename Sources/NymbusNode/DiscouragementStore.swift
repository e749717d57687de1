import FoundationEssentials
import NymbusTransport
import NymbusCrypto

/// Reads and writes the discouragement list as JSON in the data directory, so a peer that
/// misbehaved stays refused across a restart (Bitcoin Core keeps its bans in `banlist.json`
/// the same way; its discouragement filter is memory-only, ours is not).
///
/// Writes are atomic (temp file, then rename) and the file is mode 0600 in a 0700 directory:
/// it names peers we talked to. Expiries are Unix seconds; expired entries are dropped on load.
/// A file that exists but does not read back is never replaced: it is renamed to
/// `discouraged.json.corrupt-<unix time>` and reported as `NodeError.corruptDiscouragementList`.
struct DiscouragementStore: Sendable {
    /// The file name inside the data directory.
    static let fileName = "discouraged.json"
    /// The on-disk format this build writes and reads.
    static let formatVersion = 1

    /// The data directory.
    let directory: String

    /// The file's path.
    var path: String { StoreFile.path(DiscouragementStore.fileName, in: directory) }

    /// The JSON form of one entry: `kind` is `address` (a Nym address) or `tag` (a base58
    /// sender tag); `expires` is Unix seconds.
    struct Record: Codable, Equatable {
        var kind: String
        var value: String
        var expires: Int64
    }

    /// The JSON form of the whole file.
    struct File: Codable, Equatable {
        var format: Int
        var entries: [Record]
    }

    /// Loads the list (unexpired entries only), or returns nil if there is no file yet.
    func load(duration: Int64, capacity: Int, now: Int64) throws(NodeError) -> DiscouragementList? {
        try StoreFile.load(path, what: "discouragement list", corrupt: .corruptDiscouragementList, now: now) {
            data throws(StoreFile.Problem) in
            DiscouragementList(duration: duration, capacity: capacity, restoring: try decode(data, capacity: capacity), now: now)
        }
    }

    /// Decodes file bytes into entries; throws a description of the first problem found.
    func decode(_ data: Data, capacity: Int) throws(StoreFile.Problem) -> [DiscouragedKey: Int64] {
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw .init("not valid JSON for a discouragement list: \(error)")
        }
        guard file.format == DiscouragementStore.formatVersion else {
            throw .init("format \(file.format) is not \(DiscouragementStore.formatVersion)")
        }
        guard file.entries.count <= capacity * 2 else {
            throw .init("\(file.entries.count) entries is far more than the list holds (\(capacity))")
        }
        var entries: [DiscouragedKey: Int64] = [:]
        for (index, record) in file.entries.enumerated() {
            let key: DiscouragedKey
            switch record.kind {
            case "address":
                do { key = .address(try Recipient(string: record.value)) } catch {
                    throw .init("entry \(index) has an invalid address: \(error.reason)")
                }
            case "tag":
                do { key = .tag(try SenderTag(base58: record.value)) } catch {
                    throw .init("entry \(index) has an invalid sender tag")
                }
            default:
                throw .init("entry \(index) has an unknown kind")
            }
            entries[key] = max(entries[key] ?? .min, record.expires)
        }
        return entries
    }

    /// The bytes `save` writes for `list`.
    func encode(_ list: DiscouragementList) throws(NodeError) -> Data {
        let records = list.expiries.map { key, expires in
            switch key {
            case .address(let a): Record(kind: "address", value: a.description, expires: expires)
            case .tag(let t): Record(kind: "tag", value: t.description, expires: expires)
            }
        }
        .sorted { ($0.kind, $0.value) < ($1.kind, $1.value) }
        return try StoreFile.encode(File(format: DiscouragementStore.formatVersion, entries: records), what: "discouragement list")
    }

    /// Writes `list` atomically, mode 0600, creating the directory (0700) if needed.
    func save(_ list: DiscouragementList) throws(NodeError) {
        try StoreFile.save(try encode(list), to: path, in: directory, what: "discouragement list")
    }
}
