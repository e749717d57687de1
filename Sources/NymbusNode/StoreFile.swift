import FoundationEssentials
import NymbusCrypto

/// What the node's JSON files in the data directory share: read if present, set a file that does
/// not decode aside (never replace it) and report it, encode with sorted keys, write atomically.
enum StoreFile {
    /// What is wrong with a file's contents, in words for the report.
    struct Problem: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// `name` inside `directory`.
    static func path(_ name: String, in directory: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Decodes the file at `path`, or returns nil if there is none. A file that does not decode
    /// is renamed to `<path>.corrupt-<now>` and reported as `corrupt`, naming `what` it held.
    static func load<Value>(
        _ path: String, what: String, corrupt: NodeError.Code, now: Int64,
        decode: (Data) throws(Problem) -> Value
    ) throws(NodeError) -> Value? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: URL(filePath: path)) } catch {
            throw NodeError(.persistence, "cannot read the \(what) \(path): \(error)")
        }
        do {
            return try decode(data)
        } catch let problem {
            let aside = path + ".corrupt-\(now)"
            var kept = "kept as \(aside)"
            do { try fm.moveItem(atPath: path, toPath: aside) } catch {
                kept = "could not move it aside (\(error)); left in place"
            }
            throw NodeError(
                corrupt,
                "\(what) \(path) is corrupt (\(problem)); \(kept). Start again to begin with an empty \(what), "
                    + "or restore a backup.")
        }
    }

    /// The JSON bytes of `file`, keys sorted so equal contents give equal files.
    static func encode(_ file: some Encodable, what: String) throws(NodeError) -> Data {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try encoder.encode(file)
        } catch {
            throw NodeError(.persistence, "cannot encode the \(what): \(error)")
        }
    }

    /// Writes atomically, mode 0600, creating the directory (0700) if needed.
    static func save(_ data: Data, to path: String, in directory: String, what: String) throws(NodeError) {
        do { try AtomicFile.write(data, to: path, in: directory) } catch {
            throw NodeError(.persistence, "cannot write the \(what) \(path): \(error)")
        }
    }
}
