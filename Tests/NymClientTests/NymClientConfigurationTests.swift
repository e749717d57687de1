import Logging
import NymClient
import NymbusCrypto
import NymbusTransport
import NymbusTestSupport
import Testing

/// `NymClientConfiguration.validate()`: each field out of its range is named, with the range.
@Suite struct NymClientConfigurationTests {
    @Test func eachBadFieldIsNamedWithItsRange() throws {
        #expect(throws: Never.self) { try NymClientConfiguration().validate() }
        #expect(throws: Never.self) { try NymClientConfiguration(url: "ws://[::1]:1978/x").validate() }
        let cases: [(reason: String, change: (inout NymClientConfiguration) -> Void)] = [
            ("NymClientConfiguration.host is empty; allowed: a host name or address", { $0.host = "" }),
            ("NymClientConfiguration.port is 0; allowed: 1...65535", { $0.port = 0 }),
            ("NymClientConfiguration.port is 70000; allowed: 1...65535", { $0.port = 70000 }),
            ("NymClientConfiguration.initialBackoff is 0 s; allowed: more than 0 s", { $0.initialBackoff = .zero }),
            ("NymClientConfiguration.maxBackoff is 50 ms; allowed: 100 ms or more", { $0.maxBackoff = .milliseconds(50) }),
            ("NymClientConfiguration.maxQueuedMessages is 0; allowed: 1 or more", { $0.maxQueuedMessages = 0 }),
            ("NymClientConfiguration.startTimeout is 0 s; allowed: more than 0 s", { $0.startTimeout = .zero }),
            ("NymClientConfiguration.maxFrameSize is 0; allowed: 1 or more", { $0.maxFrameSize = 0 }),
            ("NymClientConfiguration.resendWindow is -1 s; allowed: 0 s or more", { $0.resendWindow = .seconds(-1) }),
        ]
        expectEachRejected(cases, from: NymClientConfiguration(), code: NymClientError.Code.invalidConfiguration) { try $0.validate() }
    }

    /// The check runs at `start()`, before any connection attempt.
    @Test func aConnectionWithABadConfigurationDoesNotStart() async {
        var configuration = NymClientConfiguration()
        configuration.maxBufferedInbound = 0
        let connection = NymClientConnection(
            configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let error = await #expect(throws: NymClientError.self) { try await connection.start() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.reason == "NymClientConfiguration.maxBufferedInbound is 0; allowed: 1 or more")
        #expect(error?.transportError.code == .failed)
        await connection.close()
    }
}
