import Foundation
import NymbusCrypto
import NymbusPubSub

/// The private topics this node has joined, by channel, persisted as invites in `topics.json`
/// (mode 0600: an invite is the topic's secret).
struct TopicStore {
    private struct File: Codable {
        var version = 1
        var topics: [String: String]  // channel -> invite
    }

    private let directory: DataDirectory?
    private(set) var topics: [[UInt8]: Topic] = [:]
    static let fileName = "topics.json"

    /// Loads the joined topics; a file that does not parse is an error naming the file, never replaced.
    init(directory: DataDirectory?) throws(DaemonError) {
        self.directory = directory
        guard let directory, let data = try directory.read(Self.fileName) else { return }
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: data) } catch {
            throw DaemonError(
                .corruptFile,
                "\(directory.file(Self.fileName)) is corrupt (\(error)); fix or move it away, nothing was changed")
        }
        for (channel, invite) in file.topics {
            do { topics[Array(channel.utf8)] = try Topic(invite: invite) } catch {
                throw DaemonError(.corruptFile, "\(directory.file(Self.fileName)): invite for \(channel) is invalid: \(error.reason)")
            }
        }
    }

    /// Adds (or replaces) a joined topic and saves.
    mutating func join(_ topic: Topic, channel: [UInt8]) throws(DaemonError) {
        topics[channel] = topic
        try save()
    }

    /// Forgets a joined topic and saves; returns whether it was joined.
    mutating func leave(channel: [UInt8]) throws(DaemonError) -> Bool {
        guard topics.removeValue(forKey: channel) != nil else { return false }
        try save()
        return true
    }

    private func save() throws(DaemonError) {
        guard let directory else { return }
        let file = File(topics: Dictionary(uniqueKeysWithValues: topics.map { (String(decoding: $0.key, as: UTF8.self), $0.value.invite) }))
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            data = try encoder.encode(file)
        } catch {
            throw DaemonError(.dataDirectory, "cannot encode topics: \(error)")
        }
        try directory.write(Self.fileName, data)
    }
}
