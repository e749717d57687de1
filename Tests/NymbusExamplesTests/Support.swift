import Foundation
import Logging
import NymbusBroker
import NymbusDaemon
import NymbusMixnet
import NymbusPubSub
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
        throw ExampleTestFailure("\(name) is not built next to the tests in \(bundle.path): run `swift build --build-tests`")
    }
}

/// A test precondition that failed (a missing tool is a failure, not a skip).
struct ExampleTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Finds an executable on PATH; missing means failure: `make test` installs redis-tools and redis-py.
func requireTool(_ name: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw ExampleTestFailure("\(name) is not installed: run `make test-deps` (it installs redis-tools and redis-py)")
}

/// python3 with redis-py importable, or a failure saying how to get it.
func requirePythonWithRedis() async throws -> String {
    let python = try requireTool("python3")
    let check = try await ChildProcess.run(python, ["-c", "import redis"], timeout: .seconds(30))
    guard check.status == 0 else {
        throw ExampleTestFailure("redis-py is not installed for \(python): run `make test-deps` (pip install redis)\n\(check.stderr)")
    }
    return python
}

/// A unique short directory (Unix socket paths are limited to ~107 bytes).
func temporaryDirectory(_ name: String) -> String {
    let path = "/tmp/nbx-\(name)-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
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

/// Waits for `condition`, polling; a generous bound because test machines are loaded.
func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A child process whose output is collected as it arrives, with a writable stdin.
final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var out: [UInt8] = []
    private var err: [UInt8] = []
    private let stdinPipe = Pipe()
    private var closedStreams = 0  // stdout and stderr at end of file

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = stdinPipe
        // One blocking reader thread per stream: `availableData` returns what is there, or
        // empty data at end of file (every writer, including grandchildren, closed it).
        for (handle, isStdout) in [(stdoutPipe.fileHandleForReading, true), (stderrPipe.fileHandleForReading, false)] {
            Thread.detachNewThread { [self] in
                while true {
                    let data = handle.availableData
                    lock.withLock {
                        if isStdout { out += data } else { err += data }
                        if data.isEmpty { closedStreams += 1 }
                    }
                    if data.isEmpty { return }
                }
            }
        }
        try process.run()
    }

    var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
    /// Complete stdout lines so far.
    var lines: [String] {
        let text = stdout
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast()  // "" after the last newline, or a line still being written
        return parts
    }

    func write(_ text: String) throws { try stdinPipe.fileHandleForWriting.write(contentsOf: Data(text.utf8)) }
    func write(bytes: [UInt8]) throws { try stdinPipe.fileHandleForWriting.write(contentsOf: Data(bytes)) }
    func closeStdin() throws { try stdinPipe.fileHandleForWriting.close() }

    /// Waits until stdout has a line equal to `line`; false on timeout or exit without it.
    func waitForLine(_ line: String, timeout: Duration = .seconds(20)) async -> Bool {
        _ = await eventually(timeout: timeout) { lines.contains(line) || !process.isRunning }
        if !process.isRunning { _ = await eventually(timeout: .seconds(5)) { lock.withLock { closedStreams == 2 } } }
        return lines.contains(line)
    }

    /// Waits for exit; kills the process after `timeout`. Returns the exit status (nil = killed).
    func waitForExit(timeout: Duration = .seconds(20)) async -> Int32? {
        if await eventually(timeout: timeout, { !process.isRunning }) {
            // Every byte written before the exit is read once both pipes reach end of file.
            _ = await eventually(timeout: .seconds(5)) { lock.withLock { closedStreams == 2 } }
            return process.terminationStatus
        }
        terminate()
        return nil
    }

    func terminate() { if process.isRunning { process.terminate() } }

    /// The process id (for `kill -9` in tests).
    var pid: Int32 { process.processIdentifier }

    /// Runs a command to completion with optional stdin.
    static func run(
        _ executable: String, _ arguments: [String], stdin: [UInt8] = [], timeout: Duration = .seconds(20)
    ) async throws -> (status: Int32?, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments)
        try child.write(bytes: stdin)
        try child.closeStdin()
        let status = await child.waitForExit(timeout: timeout)
        return (status, child.stdout, child.stderr)
    }
}
