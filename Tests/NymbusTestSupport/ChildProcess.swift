import Foundation

/// A test precondition that failed, with a message that says what to do (a missing tool is a
/// failure, not a skip: `make test` installs what the tests need).
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Finds an executable on PATH, or throws saying how to get it (`make test-deps` installs
/// redis-tools, redis-server and redis-py).
public func requireTool(_ name: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw TestFailure("\(name) is not installed: run `make test-deps` (it installs redis-tools and redis-py)")
}

/// A child process whose output is collected as it arrives, with a writable stdin.
///
/// One blocking reader thread per output stream; every byte the process (or a grandchild holding
/// its pipes) wrote is in ``stdout``/``stderr`` once both streams reached end of file, which
/// ``waitForExit(timeout:)`` waits for.
public final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var out: [UInt8] = []
    private var err: [UInt8] = []
    private let stdinPipe = Pipe()
    private var closedStreams = 0  // stdout and stderr at end of file

    /// Starts `executable` with `arguments`; Python children run unbuffered.
    public init(_ executable: String, _ arguments: [String]) throws {
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
        // `availableData` returns what is there, or empty data at end of file (every writer,
        // including grandchildren, closed it).
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

    public var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    public var stdoutBytes: [UInt8] { lock.withLock { out } }
    public var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }

    /// Complete stdout lines so far.
    public var lines: [String] {
        var parts = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        parts.removeLast()  // "" after the last newline, or a line still being written
        return parts
    }

    /// Whether both output streams reached end of file.
    private var outputComplete: Bool { lock.withLock { closedStreams == 2 } }

    public func write(_ text: String) throws { try write(bytes: Array(text.utf8)) }
    public func write(bytes: [UInt8]) throws { try stdinPipe.fileHandleForWriting.write(contentsOf: Data(bytes)) }
    public func closeStdin() throws { try stdinPipe.fileHandleForWriting.close() }

    /// Writes `bytes` to stdin, then closes it unless told not to.
    public func writeStdin(_ bytes: [UInt8], close: Bool = true) throws {
        try write(bytes: bytes)
        if close { try closeStdin() }
    }

    /// Waits until stdout has a line equal to `line`; false on timeout or exit without it.
    public func waitForLine(_ line: String, timeout: Duration = .seconds(20)) async -> Bool {
        _ = await waitUntil(timeout: timeout) { lines.contains(line) || !process.isRunning }
        if !process.isRunning { _ = await waitUntil(timeout: .seconds(5)) { outputComplete } }
        return lines.contains(line)
    }

    /// Waits for exit and for every byte written before it; kills the process after `timeout`.
    /// Returns the exit status (nil = killed).
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        if await waitUntil(timeout: timeout, { !process.isRunning }) {
            _ = await waitUntil(timeout: .seconds(5)) { outputComplete }
            return process.terminationStatus
        }
        terminate()
        return nil
    }

    /// Blocks until the process ended (after a kill, from a synchronous context); whether it did
    /// within 10 s.
    public func waitUntilExit() -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(1000) }
        return !process.isRunning
    }

    /// Sends SIGTERM if it still runs.
    public func terminate() { if process.isRunning { process.terminate() } }

    /// Whether it still runs.
    public var isRunning: Bool { process.isRunning }

    /// The process id (for `kill -9` in tests).
    public var pid: Int32 { process.processIdentifier }

    /// Runs a command to completion with `stdin` (then closed).
    public static func run(
        _ executable: String, _ arguments: [String], stdin: [UInt8] = [], timeout: Duration = .seconds(30)
    ) async throws -> (status: Int32?, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments)
        try child.writeStdin(stdin)
        let status = await child.waitForExit(timeout: timeout)
        return (status, child.stdout, child.stderr)
    }
}
