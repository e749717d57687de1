import NymbusTestSupport
import Testing

@testable import NymbusMixnet

/// Ports a local mixnet picked stay its own while they are closed: with two test suites at once,
/// the other suite's mixnet once took a port while `restart()` had it closed (`bindFailed`).
/// The other process here is a Python child taking POSIX record locks on the same lock file.
@Suite struct PortReservationTests {
    typealias S = MixnetTestSupport

    /// Asks a child process to lock byte `port` of the lock file: "free" (it could, and let go
    /// as it exited) or "held".
    private static func otherProcessFinds(_ port: Int) async throws -> String {
        let script = """
            import fcntl, os, sys
            fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, int(sys.argv[2]), os.SEEK_SET)
                print("free")
            except OSError:
                print("held")
            """
        let result = try await ChildProcess.run(
            try requireTool("python3"), ["-c", script, PortReservations.lockFilePath, "\(port)"])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    @Test func anOfflineEndpointsPortStaysReservedUntilItIsBack() async throws {
        let mixnet = try await S.startMixnet(clients: 1)
        let port = await mixnet.endpoints[0].port
        #expect(LocalMixnet.freePorts.contains(port))
        try await mixnet.takeOffline(0)
        // Closed, yet neither another mixnet of this process nor another process may pick it.
        #expect(PortReservations.isReserved(port))
        #expect(!PortReservations.reserve(port))
        #expect(try await Self.otherProcessFinds(port) == "held\n")
        try await mixnet.bringOnline(0)
        #expect(await mixnet.endpoints[0].port == port)
        try await mixnet.restart()
        #expect(await mixnet.endpoints[0].port == port)
        #expect(PortReservations.isReserved(port))
        await mixnet.stop()
    }

    @Test func aPortAnotherProcessHoldsIsNotReservedHereUntilItLetsGo() async throws {
        // The child locks a port no mixnet picks (below `freePorts`), one nobody holds, and keeps
        // it until its stdin closes.
        let script = """
            import fcntl, os, random, sys
            fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o666)
            for port in random.sample(range(1024, 20000), 1000):
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, port, os.SEEK_SET)
                except OSError:
                    continue
                print(port)
                sys.stdin.read()
                break
            """
        let child = try ChildProcess(try requireTool("python3"), ["-c", script, PortReservations.lockFilePath])
        defer { child.terminate() }
        let locked = await eventually { !child.lines.isEmpty || !child.isRunning }
        #expect(locked)
        let port = try #require(Int(child.lines.first ?? ""), "child: \(child.stdout) \(child.stderr)")
        #expect(!PortReservations.reserve(port))
        #expect(!PortReservations.isReserved(port))
        try child.closeStdin()
        #expect(await child.waitForExit() == 0)
        #expect(PortReservations.reserve(port))
        #expect(!PortReservations.reserve(port))  // once per process
        PortReservations.release(port)
        #expect(!PortReservations.isReserved(port))
        #expect(try await Self.otherProcessFinds(port) == "free\n")
    }

    @Test func onlyPortsAreReserved() {
        #expect(!PortReservations.reserve(0))
        #expect(!PortReservations.reserve(65536))
        #expect(!PortReservations.reserve(-1))
    }
}
