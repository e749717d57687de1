import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusPubSub

/// The topic layer's settings: each field out of its range is named, with the range; times
/// are `Duration`s, counted by the topic layer's clock in whole seconds.
@Suite struct PubSubConfigurationTests {
    @Test func eachBadFieldIsNamedWithItsRange() {
        #expect(throws: Never.self) { try PubSubConfiguration().validate() }
        let cases: [(reason: String, change: (inout PubSubConfiguration) -> Void)] = [
            ("PubSubConfiguration.maxAge is 30 s; allowed: 60 s or more", { $0.maxAge = .seconds(30) }),
            ("PubSubConfiguration.maxFuture is 59 s; allowed: 60 s or more", { $0.maxFuture = .seconds(59) }),
            // seenWindow must cover maxAge + maxFuture (17 min) and at least 10 min.
            ("PubSubConfiguration.seenWindow is 600 s; allowed: 1020 s or more", { $0.seenWindow = .seconds(600) }),
            (
                "PubSubConfiguration.seenWindow is 300 s; allowed: 600 s or more",
                {
                    $0.maxAge = .seconds(60)
                    $0.maxFuture = .seconds(60)
                    $0.seenWindow = .seconds(300)
                }
            ),
            ("PubSubConfiguration.graftTimeout is 0 s; allowed: 1 s...10 s", { $0.graftTimeout = .zero }),
            ("PubSubConfiguration.graftTimeout is 11 s; allowed: 1 s...10 s", { $0.graftTimeout = .seconds(11) }),
            ("PubSubConfiguration.requestTimeout is 500 ms; allowed: 1 s or more", { $0.requestTimeout = .milliseconds(500) }),
            ("PubSubConfiguration.messageCacheWindow is 0 s; allowed: 1 s or more", { $0.messageCacheWindow = .zero }),
            ("PubSubConfiguration.maxPayloadBytes is 98304; allowed: 0...98053", { $0.maxPayloadBytes = 98304 }),
            ("PubSubConfiguration.orderHold is 61 s; allowed: 0 s...60 s", { $0.orderHold = .seconds(61) }),
            ("PubSubConfiguration.heartbeatJitter is 1.0; allowed: 0..<1", { $0.heartbeatJitter = 1 }),
            ("PubSubConfiguration.gossipHistory is 1; allowed: 2 or more", { $0.gossipHistory = 1 }),
            ("PubSubConfiguration.heartbeatInterval is 0 s; allowed: more than 0 s", { $0.heartbeatInterval = .zero }),
            ("PubSubConfiguration.authorSecret is 16 bytes; allowed: 32 bytes", { $0.authorSecret = SecureBytes(randomCount: 16) }),
            ("SyncSettings.requestTimeout is 0 s; allowed: 1 s or more", { $0.sync.requestTimeout = .zero }),
            ("SyncSettings.roundTimeout is 999 ms; allowed: 1 s or more", { $0.sync.roundTimeout = .milliseconds(999) }),
            ("SyncSettings.reconciler.maxIDs is 501; allowed: 1...500", { $0.sync.reconciler.maxIDs = 501 }),
            ("SyncSettings.servedPerSecond is 0.0; allowed: more than 0.0", { $0.sync.servedPerSecond = 0 }),
        ]
        expectEachRejected(cases, from: PubSubConfiguration(), code: PubSubError.Code.invalidConfiguration) { try $0.validate() }
    }

    @Test func archiveLimitsNameTheirBadField() {
        #expect(throws: Never.self) { try ArchiveLimits().validate() }
        let short = #expect(throws: PubSubError.self) { try ArchiveLimits(retention: .seconds(59)).validate() }
        #expect(short?.reason == "ArchiveLimits.retention is 59 s; allowed: 60 s or more")
        let negative = #expect(throws: PubSubError.self) { try ArchiveLimits(maxBytes: -1).validate() }
        #expect(negative?.reason == "ArchiveLimits.maxBytes is -1; allowed: 0 or more")
    }

    /// Durations reach the second-counting clocks rounded down (the check keeps them ≥ 1 s).
    @Test func timesReachTheRouterInWholeSeconds() {
        var configuration = PubSubConfiguration()
        configuration.maxAge = .milliseconds(900_999)
        configuration.maxFuture = .seconds(120)
        let router = ObjectRouter(configuration: configuration)
        #expect(router.maxAge == 900)
        #expect(router.maxFuture == 120)
        #expect(ArchiveLedger.cutoffMinute(now: 7200, retention: ArchiveLimits(retention: .milliseconds(3_600_500)).retention.wholeSeconds) == 60)
    }
}
