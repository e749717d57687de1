import Foundation
import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusBroker

/// `BrokerConfiguration.validate()`: each field out of its range is named, with the range;
/// the stream age limit is a `Duration`.
@Suite struct BrokerConfigurationTests {
    @Test func eachBadFieldIsNamedWithItsRange() {
        #expect(throws: Never.self) { try BrokerConfiguration(socketPath: "/tmp/x.sock").validate() }
        let cases: [(reason: String, change: (inout BrokerConfiguration) -> Void)] = [
            ("BrokerConfiguration.socketPath is empty; allowed: a path", { $0.socketPath = "" }),
            ("BrokerConfiguration.maxOutputBytes is 1024; allowed: 65536 or more", { $0.maxOutputBytes = 1024 }),
            ("BrokerConfiguration.slowClientGrace is -1 s; allowed: 0 s or more", { $0.slowClientGrace = .seconds(-1) }),
            ("BrokerConfiguration.maxClients is 0; allowed: 1 or more", { $0.maxClients = 0 }),
            ("BrokerConfiguration.limits.maxArrayCount is 0; allowed: 1 or more", { $0.limits.maxArrayCount = 0 }),
            ("BrokerConfiguration.streamRetention.maxLength is -1; allowed: 0 or more", { $0.streamRetention.maxLength = -1 }),
            (
                "BrokerConfiguration.streamRetention.maxAge is -5 ms; allowed: 0 s or more",
                { $0.streamRetention.maxAge = .milliseconds(-5) }
            ),
        ]
        expectEachRejected(cases, from: BrokerConfiguration(socketPath: "/tmp/x.sock"), code: BrokerError.Code.invalidConfiguration) { try $0.validate() }
    }

    /// Stream ids count milliseconds: the age limit reaches them rounded down to a millisecond.
    @Test func streamAgeIsCountedInMilliseconds() {
        #expect(StreamRetention(maxAge: .seconds(90)).maxAgeMilliseconds == 90_000)
        #expect(StreamRetention(maxAge: .microseconds(2_500)).maxAgeMilliseconds == 2)
        #expect(StreamRetention().maxAgeMilliseconds == 0)
    }

    /// The check runs at `start()`: a broker with a bad configuration creates nothing on disk.
    @Test func aBrokerWithABadConfigurationDoesNotStart() async {
        let socket = TemporarySocket()
        defer { socket.remove() }
        var configuration = BrokerConfiguration(socketPath: socket.path)
        configuration.maxClients = 0
        let broker = BrokerServer(configuration: configuration, backend: LoopbackBrokerBackend(), logger: quietLogger)
        let error = await #expect(throws: BrokerError.self) { try await broker.start() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.reason == "BrokerConfiguration.maxClients is 0; allowed: 1 or more")
        #expect(!FileManager.default.fileExists(atPath: socket.directory))
    }
}
