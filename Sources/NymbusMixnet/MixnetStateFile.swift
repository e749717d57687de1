import NymbusCrypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The endpoint addresses of a local mixnet, kept in `<state dir>/mixnet-state.json` so a
/// restarted mixnet hands every node the same Nym address again.
///
/// Only public addresses are stored (the stand-in never signs or decrypts). Writes are atomic
/// (temporary file, then rename); a file that exists but does not parse is reported, never replaced.
struct MixnetStateFile {
    /// File name inside the state directory.
    static let fileName = "mixnet-state.json"
    /// Format version written and accepted.
    static let version = 1
    /// Files larger than this are refused before reading.
    static let maximumFileSize = 16 << 20

    private struct Contents: Codable {
        var version: Int
        var endpoints: [String]
    }

    let directory: String
    var path: String { directory.hasSuffix("/") ? directory + Self.fileName : directory + "/" + Self.fileName }

    /// The stored addresses in endpoint order; empty when there is no file yet.
    func load() throws(MixnetError) -> [Recipient] {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? Int, size > Self.maximumFileSize {
                throw MixnetError(.corruptState, "\(path) is \(size) bytes, more than a state file can be")
            }
            data = try Data(contentsOf: url)
        } catch let error as MixnetError {
            throw error
        } catch {
            throw MixnetError(.stateIO, "cannot read \(path): \(error)")
        }
        let contents: Contents
        do { contents = try JSONDecoder().decode(Contents.self, from: data) } catch {
            throw MixnetError(
                .corruptState, "\(path) is not a valid mixnet state file (\(error)); fix it or move it away")
        }
        guard contents.version == Self.version else {
            throw MixnetError(
                .corruptState, "\(path) has format version \(contents.version), this build reads \(Self.version)")
        }
        var addresses: [Recipient] = []
        for (position, text) in contents.endpoints.enumerated() {
            do { addresses.append(try Recipient(string: text)) } catch {
                throw MixnetError(
                    .corruptState, "\(path): endpoint \(position) has an invalid address: \(error.reason)")
            }
        }
        guard Set(addresses).count == addresses.count else {
            throw MixnetError(.corruptState, "\(path) lists the same address twice")
        }
        return addresses
    }

    /// Writes `addresses` atomically, creating the directory if needed.
    func save(_ addresses: [Recipient]) throws(MixnetError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(Contents(version: Self.version, endpoints: addresses.map(\.description)))
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw MixnetError(.stateIO, "cannot write \(path): \(error)")
        }
    }
}
