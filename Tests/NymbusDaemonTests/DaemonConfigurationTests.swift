import Foundation
import NymClient
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusPubSub
import NymbusTestSupport
import Testing

/// A whole node's settings and a devnet's: their own fields and their parts' are named, with
/// the range, as a `DaemonError.invalidConfiguration`, before anything is created.
@Suite struct DaemonConfigurationTests {
    private static func configuration(_ directory: String? = nil) -> DaemonConfiguration {
        DaemonConfiguration(
            nymClient: NymClientConfiguration(), node: NodeConfiguration(), socketPath: "/tmp/nb-unused/n.sock",
            dataDirectory: directory)
    }

    @Test func ownAndPartsFieldsAreNamedWithTheirRange() {
        #expect(throws: Never.self) { try Self.configuration().validate() }
        let cases: [(reason: String, change: (inout DaemonConfiguration) -> Void)] = [
            ("NymClientConfiguration.port is 0; allowed: 1...65535", { $0.nymClient.port = 0 }),
            ("NodeConfiguration.outboundTarget is -1; allowed: 0...1024", { $0.node.outboundTarget = -1 }),
            ("PubSubConfiguration.graftTimeout is 0 s; allowed: 1 s...10 s", { $0.pubsub.graftTimeout = .zero }),
            ("SyncSettings.maxRounds is 0; allowed: 1 or more", { $0.pubsub.sync.maxRounds = 0 }),
            ("ArchiveLimits.retention is 1 s; allowed: 60 s or more", { $0.archive.retention = .seconds(1) }),
            ("DaemonConfiguration.socketPath is empty; allowed: a path", { $0.socketPath = "" }),
            ("DaemonConfiguration.brokerMaxOutputBytes is 100; allowed: 65536 or more", { $0.brokerMaxOutputBytes = 100 }),
            ("DaemonConfiguration.warnWithoutPeerAfter is 0 s; allowed: more than 0 s", { $0.warnWithoutPeerAfter = .zero }),
            ("DaemonConfiguration.noPeerPublishWait is -1 s; allowed: 0 s or more", { $0.noPeerPublishWait = .seconds(-1) }),
        ]
        expectEachRejected(cases, from: Self.configuration(), code: DaemonError.Code.invalidConfiguration) { try $0.validate() }
    }

    /// `NymbusDaemon.init` checks first: a bad setting leaves the data directory untouched.
    @Test func aDaemonWithABadConfigurationCreatesNothing() {
        let directory = temporaryPath("badconf")
        var configuration = Self.configuration(directory)
        configuration.pubsub.maxAge = .seconds(10)
        let error = #expect(throws: DaemonError.self) { try NymbusDaemon(configuration: configuration, logger: LogCapture().logger()) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.reason == "PubSubConfiguration.maxAge is 10 s; allowed: 60 s or more")
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test func devnetFieldsAreNamedWithTheirRange() {
        #expect(throws: Never.self) { try DevnetConfiguration(directory: "/tmp/nb-unused").validate() }
        let cases: [(reason: String, change: (inout DevnetConfiguration) -> Void)] = [
            ("DevnetConfiguration.nodes is 0; allowed: 1...200", { $0.nodes = 0 }),
            ("DevnetConfiguration.nodes is 201; allowed: 1...200", { $0.nodes = 201 }),
            (
                "DevnetConfiguration.hidden is 3; allowed: 0...2 (hidden nodes accept no inbound links, so at least one node must be visible)",
                { $0.hidden = 3 }
            ),
            ("DevnetConfiguration.directory is empty; allowed: a path", { $0.directory = "" }),
            ("MixnetConfiguration.lossProbability is -0.5; allowed: 0.0...1.0", { $0.mixnet.lossProbability = -0.5 }),
        ]
        expectEachRejected(cases, from: DevnetConfiguration(directory: "/tmp/nb-unused"), code: DaemonError.Code.invalidConfiguration) { try $0.validate() }
    }
}
