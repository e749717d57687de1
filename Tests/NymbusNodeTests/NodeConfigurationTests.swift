import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusNode

/// `NodeConfiguration.validate()`: each field out of its range is named, with the range.
@Suite struct NodeConfigurationTests {
    @Test func eachBadFieldIsNamedWithItsRange() {
        #expect(throws: Never.self) { try NodeConfiguration().validate() }
        #expect(throws: Never.self) { try NodeConfiguration(mode: .hidden).validate() }
        let cases: [(reason: String, change: (inout NodeConfiguration) -> Void)] = [
            ("NodeConfiguration.outboundTarget is -1; allowed: 0...1024", { $0.outboundTarget = -1 }),
            ("NodeConfiguration.inboundMax is 5000; allowed: 0...1024", { $0.inboundMax = 5000 }),
            ("NodeConfiguration.pingInterval is 0 s; allowed: more than 0 s", { $0.pingInterval = .zero }),
            ("NodeConfiguration.peerTimeout is -1 s; allowed: more than 0 s", { $0.peerTimeout = .seconds(-1) }),
            ("NodeConfiguration.silenceProbe is 0 s; allowed: more than 0 s", { $0.silenceProbe = .zero }),
            ("NodeConfiguration.probeAttempts is 0; allowed: 1 or more", { $0.probeAttempts = 0 }),
            (
                "NodeConfiguration.relinkMaximumDelay is 500 ms; allowed: 1 s or more",
                { $0.relinkMaximumDelay = .milliseconds(500) }
            ),
            ("NodeConfiguration.getaddrShare is 1.5; allowed: 0.0...1.0", { $0.getaddrShare = 1.5 }),
            ("NodeConfiguration.getaddrMaximum is 1001; allowed: 0...1000", { $0.getaddrMaximum = 1001 }),
            ("NodeConfiguration.packetRate is 0.0; allowed: more than 0.0", { $0.packetRate = 0 }),
            ("NodeConfiguration.laneWindow is 0; allowed: 1 or more", { $0.laneWindow = 0 }),
            ("NodeConfiguration.lanePollInterval is 0 s; allowed: more than 0 s", { $0.lanePollInterval = .zero }),
            ("NodeConfiguration.surbs.initial is 101; allowed: 1...100", { $0.surbs.initial = 101 }),
            (
                "NodeConfiguration.userAgent is 65 bytes; allowed: at most 64 bytes",
                { $0.userAgent = String(repeating: "a", count: 65) }
            ),
        ]
        expectEachRejected(cases, from: NodeConfiguration(), code: NodeError.Code.invalidConfiguration) { try $0.validate() }
    }

    /// The check runs where the configuration is used: a node with a bad one does not start,
    /// and dials nobody.
    @Test func aNodeWithABadConfigurationDoesNotStart() async {
        let transport = ScriptedTransport()
        var configuration = testConfiguration()
        configuration.bootstrap = [.random()]
        configuration.inboundMax = -3
        let node = Node(transport: transport, configuration: configuration, logger: testLogger())
        let error = await #expect(throws: NodeError.self) { try await node.start() }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.reason == "NodeConfiguration.inboundMax is -3; allowed: 0...1024")
        #expect(await node.peers().isEmpty)
        #expect(await transport.log.all.isEmpty)
    }
}
