import FoundationEssentials
import NymbusCrypto

/// Reads and writes the address book as JSON in the data directory.
///
/// Writes are atomic (`AtomicFile.write`: a temp file created 0600, then a rename), in a
/// 0700 directory, so a crash never leaves half a book and other local users
/// cannot read who we talk to. A file that exists but does not read back is never replaced:
/// it is renamed to `peers.json.corrupt-<unix time>` and reported as `NodeError.corruptAddressBook`.
struct AddressBookStore: Sendable {
    /// The file name inside the data directory.
    static let fileName = "peers.json"
    /// The on-disk format this build writes and reads.
    static let formatVersion = 1

    /// The data directory.
    let directory: String

    /// The book file's path.
    var path: String { StoreFile.path(AddressBookStore.fileName, in: directory) }

    /// The JSON form of one entry.
    struct Record: Codable, Equatable {
        var address: String
        var services: UInt64
        var lastSeen: UInt32
        var lastTry: Int64
        var lastSuccess: Int64
        var attempts: Int
        var source: String
        var tried: Bool
    }

    /// The JSON form of the whole file.
    struct File: Codable, Equatable {
        var format: Int
        var key: String
        var entries: [Record]
    }

    /// Loads the book, or returns nil if there is no file yet.
    ///
    /// A file that cannot be decoded, has another format version, a bad key or a bad address
    /// is moved aside and reported; nothing is silently dropped.
    func load(limits: AddressBookLimits, now: Int64) throws(NodeError) -> AddressBook? {
        try StoreFile.load(path, what: "address book", corrupt: .corruptAddressBook, now: now) {
            data throws(StoreProblem) in try decode(data, limits: limits, now: now)
        }
    }

    /// Decodes file bytes into a book; throws a description of the first problem found.
    func decode(_ data: Data, limits: AddressBookLimits, now: Int64) throws(StoreProblem) -> AddressBook {
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw StoreProblem("not valid JSON for an address book: \(error)")
        }
        guard file.format == AddressBookStore.formatVersion else {
            throw StoreProblem("format \(file.format) is not \(AddressBookStore.formatVersion)")
        }
        let key: [UInt8]
        do { key = try Hex.decode(file.key) } catch { throw StoreProblem("key is not hex") }
        guard key.count == 32 else { throw StoreProblem("key has \(key.count) bytes, not 32") }
        guard file.entries.count <= limits.capacity * 2 else {
            throw StoreProblem("\(file.entries.count) entries is far more than the book holds (\(limits.capacity))")
        }
        var entries: [AddressBookEntry] = []
        entries.reserveCapacity(file.entries.count)
        for (index, record) in file.entries.enumerated() {
            let address: Recipient
            do { address = try Recipient(string: record.address) } catch {
                throw StoreProblem("entry \(index) has an invalid address: \(error.reason)")
            }
            let source: [UInt8]
            do { source = try Hex.decode(record.source) } catch {
                throw StoreProblem("entry \(index) has a bad source")
            }
            guard record.attempts >= 0 else { throw StoreProblem("entry \(index) has negative attempts") }
            entries.append(
                AddressBookEntry(
                    address: address, services: record.services, lastSeen: record.lastSeen, lastTry: record.lastTry,
                    lastSuccess: record.lastSuccess, attempts: record.attempts, sourceGroup: source, tried: record.tried
                ))
        }
        var book = AddressBook(limits: limits, key: key)
        book.restore(entries, now: now)
        return book
    }

    /// The bytes `save` writes for `book`.
    func encode(_ book: AddressBook) throws(NodeError) -> Data {
        let records = book.allEntries
            .sorted { $0.address.description < $1.address.description }
            .map {
                Record(
                    address: $0.address.description, services: $0.services, lastSeen: $0.lastSeen, lastTry: $0.lastTry,
                    lastSuccess: $0.lastSuccess, attempts: $0.attempts, source: Hex.encode($0.sourceGroup),
                    tried: $0.tried)
            }
        let file = File(format: AddressBookStore.formatVersion, key: Hex.encode(book.key), entries: records)
        return try StoreFile.encode(file, what: "address book")
    }

    /// Writes `book` atomically, mode 0600, creating the directory (0700) if needed.
    func save(_ book: AddressBook) throws(NodeError) {
        try StoreFile.save(try encode(book), to: path, in: directory, what: "address book")
    }

    /// What is wrong with a book file.
    typealias StoreProblem = StoreFile.Problem
}
