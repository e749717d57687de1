import Foundation
import Logging
import NymbusBroker
import NymbusDaemon
import NymbusMixnet
import NymbusPubSub
import NymbusTestSupport
import Testing

/// Paths of the repository's examples, found from this file's location.
enum ExamplePaths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let examples = repository.appendingPathComponent("Examples")
    static let pubsubPy = examples.appendingPathComponent("python/pubsub.py").path
    static let chatPy = examples.appendingPathComponent("group-chat/chat.py").path
    static let workerPoolPy = examples.appendingPathComponent("python/worker_pool.py").path
    static let redisCLIScript = examples.appendingPathComponent("redis-cli.sh").path

    /// A product built next to the test bundle (`swift build --build-tests` builds every product).
    static func builtProduct(_ name: String) throws -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestFailure("\(name) is not built next to the tests in \(bundle.path): run `swift build --build-tests`")
    }
}

/// python3 with redis-py importable, or a failure saying how to get it.
func requirePythonWithRedis() async throws -> String {
    let python = try requireTool("python3")
    let check = try await ChildProcess.run(python, ["-c", "import redis"], timeout: .seconds(30))
    guard check.status == 0 else {
        throw TestFailure("redis-py is not installed for \(python): run `make test-deps` (pip install redis)\n\(check.stderr)")
    }
    return python
}

/// A running in-process devnet (3 nodes, the last hidden) and its sockets.
struct TestDevnet {
    let devnet: Devnet
    let directory: String
    let daemons: [NymbusDaemon]
    var sockets: [String] { daemons.map(\.broker.socketPath) }

    /// Starts `nodes` nodes on a local mixnet paced as nym-client (20 ms per packet), with
    /// `hopDelay` per hop (nym-client: 15 ms); `directory` reuses a data directory (node-N inside).
    static func start(
        _ name: String, nodes: Int = 3, hidden: Int = 1, hopDelay: Duration = .milliseconds(1), directory given: String? = nil
    ) async throws -> TestDevnet {
        let directory = given ?? temporaryDirectory(name)
        var configuration = DevnetConfiguration(directory: directory)
        configuration.nodes = nodes
        configuration.hidden = hidden
        configuration.mixnet.hopDelay = hopDelay
        let devnet = try Devnet(configuration: configuration, logger: Logger(label: "examples-test") { _ in SwiftLogNoOpLogHandler() })
        try await devnet.start()
        if nodes > 1 {
            let linked = await devnet.waitUntilLinked(minimumPeers: 1, timeout: .seconds(30))
            try #require(linked, "every devnet node should have a peer")
        }
        return TestDevnet(devnet: devnet, directory: directory, daemons: await devnet.daemons)
    }

    /// Runs `body` against a fresh devnet and stops it afterwards, also when `body` throws.
    static func with(
        _ name: String, nodes: Int = 3, hidden: Int = 1, hopDelay: Duration = .milliseconds(1),
        _ body: (TestDevnet) async throws -> Void
    ) async throws {
        let net = try await start(name, nodes: nodes, hidden: hidden, hopDelay: hopDelay)
        do { try await body(net) } catch {
            await net.stop()
            throw error
        }
        await net.stop()
    }

    /// Waits until node `index`'s topic layer listens to `topic` (a broker SUBSCRIBE reaches it asynchronously).
    func waitUntilListening(node index: Int, to topic: Topic) async throws {
        let daemon = daemons[index]
        let listening = await eventually { await daemon.pubsub.subscribedTopics.contains(topic) }
        try #require(listening, "node \(index) never subscribed to the topic")
    }

    func stop() async {
        await devnet.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

