import NIOCore
import NIOPosix
import NymbusCrypto
import NymbusTestSupport
import Testing

@testable import NymbusMixnet

/// Shared helpers for the end-to-end tests.
enum MixnetTestSupport {
    static var group: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }

    /// A started mixnet with zero delay (unless told otherwise) on free ports.
    static func startMixnet(
        clients: Int = 3, hopDelay: Duration = .zero, sendDelay: Duration = .zero, loss: Double = 0,
        duplicate: Double = 0, seed: UInt64 = 1,
        surbs: MixnetSurbPolicy = MixnetSurbPolicy(), stateDirectory: String? = nil
    ) async throws -> LocalMixnet {
        var configuration = MixnetConfiguration()
        configuration.clientCount = clients
        configuration.hopDelay = hopDelay
        configuration.sendDelay = sendDelay
        configuration.lossProbability = loss
        configuration.duplicateProbability = duplicate
        configuration.seed = seed
        configuration.surbs = surbs
        configuration.stateDirectory = stateDirectory
        let mixnet = try LocalMixnet(configuration: configuration)
        try await mixnet.start()
        return mixnet
    }

    /// Connects to `endpoint`, retrying while the endpoint still serves a previous connection.
    static func connect(_ mixnet: LocalMixnet, _ endpoint: Int, timeout: Duration = .seconds(10)) async throws
        -> TestWebSocket
    {
        let port = await mixnet.endpoints[endpoint].port
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                let socket = try await TestWebSocket.connect(port: port, group: group)
                // Attached once the mixnet has seen the handshake.
                guard await waitUntil(timeout: .seconds(10), { await mixnet.isAttached(endpoint) }) else { throw TestWebSocket.NotUpgraded() }
                return socket
            } catch {
                if ContinuousClock.now >= deadline { throw error }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    static func be64(_ value: Int) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: UInt64(value) >> (8 * UInt64($0))) }
    }
}
