internal import CSodium

/// Secret bytes that are wiped with `sodium_memzero` when the last reference goes away.
///
/// Keys live here rather than in plain arrays so that a dropped key does not linger in memory.
/// The storage is immutable after creation, which makes the type safe to share across tasks.
public final class SecureBytes: Sendable, Equatable {
    private nonisolated(unsafe) let storage: UnsafeMutableRawBufferPointer

    /// Copies `bytes` into wiped-on-release storage.
    public init(_ bytes: [UInt8]) {
        Sodium.ensureInitialised()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        if !bytes.isEmpty {
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
        storage = buffer
        count = bytes.count
    }

    /// Fresh random secret bytes.
    public convenience init(randomCount: Int) {
        self.init(SecureRandom.bytes(randomCount))
    }

    deinit {
        sodium_memzero(storage.baseAddress!, storage.count)
        storage.deallocate()
    }

    /// Number of secret bytes.
    public let count: Int

    /// Gives temporary read access to the secret bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.baseAddress, count: count))
    }

    /// A copy of the secret as an ordinary array (for persisting it; the caller owns the copy).
    public func copyBytes() -> [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Constant-time equality.
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.count == 0 { return true }
        return lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
    }
}
