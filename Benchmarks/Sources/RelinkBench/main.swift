// RelinkBench (issue 15): how fast links come back after a peer restarts, and what the keepalive
// that notices dead links costs.
//
//   RelinkBench [--samples 10] [--idle-seconds 120] [--probe-seconds 2]
//
// 1. Relink. A visible node V; a visible node P and a hidden node H each keep one outbound link
//    to V (H may link to P as well). V is killed (as by kill -9: no bye, nothing written) and started again on the same
//    nym-client endpoint; the figure is the time from the restart until each dialer holds a new
//    link to V that both ends see (p50/p99 over the samples). Baseline, same run: V stopped
//    cleanly (its bye tells the dialers at once) and started again. The dialers must notice
//    the kill themselves: P (visible) by its silence probe, H (hidden) by V's answer to the
//    old session. The probe runs after `--probe-seconds` of silence (production: 30 s) so the
//    samples take seconds; everything else is production (pong wait ≥ 5 s scaled to 0.5 s in
//    proportion, relink 1 s ± 50 %, maintenance 1 s), with nym-client's send pacing on.
// 2. Keepalive cost. Idle links for `--idle-seconds` with the production keepalive (silence
//    probe 30 s, pong wait ≥ 5 s, ping at least every 2 min): Sphinx packets the local mixnet's
//    senders emitted (data and SURBs), per link per minute, for a visible and a hidden link.
//    Baseline, same run: the old keepalive (a ping every 2 min, no probe).
import BenchSupport
import Logging
import NymClient
import NymbusCrypto
import NymbusDaemon
import NymbusMixnet
import NymbusNode
import NymbusWire

#if canImport(Glibc)
    import Glibc
#endif

Console.lineBuffered()
let arguments = Arguments()
let samples = arguments.int("--samples", 10)
let idleSeconds = arguments.int("--idle-seconds", 120)
let probeSeconds = arguments.double("--probe-seconds", 2)

struct Failure: Error, CustomStringConvertible {
    let description: String
}

let quiet: Logger = {
    var logger = Logger(label: "relinkbench") { _ in SwiftLogNoOpLogHandler() }
    logger.logLevel = .critical
    return logger
}()

func temporaryDirectory() throws -> String {
    var template = Array("/tmp/nbr-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw Failure(description: "cannot make a temporary directory") }
    return String(cString: made)
}

/// A daemon on `endpoint` of `mixnet`.
func startDaemon(
    _ mixnet: LocalMixnet, endpoint: Int, directory: String, hidden: Bool, bootstrap: [Recipient], target: Int,
    adjust: (inout NodeConfiguration) -> Void
) async throws -> NymbusDaemon {
    let endpoints = await mixnet.endpoints
    var node = NodeConfiguration(mode: hidden ? .hidden : .visible)
    node.bootstrap = bootstrap
    node.outboundTarget = target
    adjust(&node)
    var nymClient = try NymClientConfiguration(url: endpoints[endpoint].url)
    nymClient.startTimeout = .seconds(60)
    nymClient.maxBackoff = .seconds(1)
    let started = try NymbusDaemon(
        configuration: DaemonConfiguration(
            nymClient: nymClient, node: node, socketPath: directory + "/n\(endpoint).sock",
            dataDirectory: directory + "/d\(endpoint)"),
        logger: quiet)
    try await started.start()
    return started
}

/// The session of `dialer`'s established outbound link to `address` that `listener` sees too.
func link(from dialer: NymbusDaemon, to address: Recipient, seenBy listener: NymbusDaemon) async -> SessionID? {
    guard let out = await dialer.node.peers().first(where: { $0.direction == .outbound && $0.address == address })
    else { return nil }
    let theirs = await listener.node.peers().contains { $0.id == out.id }
    return theirs ? out.id.sessionID : nil
}

func waitFor(_ limit: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

// MARK: - Relink

func relink() async throws -> (kill: [String: [Double]], clean: [String: [Double]]) {
    var configuration = MixnetConfiguration()
    configuration.clientCount = 3
    let mixnet = try LocalMixnet(configuration: configuration, logger: quiet)
    try await mixnet.start()
    let directory = try temporaryDirectory()
    defer { _ = system("rm -rf '\(directory)'") }
    let v = await mixnet.endpoints[0].address
    let adjust: (inout NodeConfiguration) -> Void = { node in
        node.silenceProbe = .milliseconds(Int64(probeSeconds * 1000))
        node.pongWaitMinimum = .milliseconds(Int64(probeSeconds * 1000 / 6))
    }
    var server = try await startDaemon(mixnet, endpoint: 0, directory: directory, hidden: false, bootstrap: [], target: 0, adjust: adjust)
    let p = try await startDaemon(mixnet, endpoint: 1, directory: directory, hidden: false, bootstrap: [v], target: 1, adjust: adjust)
    // H can also link to P (V tells it P's address); with a target of 2 it keeps both, so a
    // lost link to V leaves it below target and it must come back to V.
    let h = try await startDaemon(mixnet, endpoint: 2, directory: directory, hidden: true, bootstrap: [v], target: 2, adjust: adjust)
    var kill: [String: [Double]] = [:]
    var clean: [String: [Double]] = [:]
    for sample in 0..<(2 * samples) {
        let dialers = [("visible", p), ("hidden", h)]
        var before: [String: SessionID] = [:]
        for (name, dialer) in dialers {
            let current = server
            guard await waitFor(.seconds(60), { await link(from: dialer, to: v, seenBy: current) != nil }) else {
                throw Failure(description: "the \(name) dialer has no link to V before sample \(sample)")
            }
            before[name] = await link(from: dialer, to: v, seenBy: current)
        }
        let killed = sample % 2 == 0
        if killed { await server.crash() } else { await server.stop() }
        server = try await startDaemon(mixnet, endpoint: 0, directory: directory, hidden: false, bootstrap: [], target: 0, adjust: adjust)
        let restarted = ContinuousClock.now
        var pending = Set(dialers.map(\.0))
        while !pending.isEmpty {
            guard ContinuousClock.now - restarted < .seconds(120) else {
                var detail = ""
                for (name, dialer) in dialers {
                    detail += " \(name): \(await dialer.node.peers().map { "\($0.direction) \($0.id)" }) \(await dialer.node.statistics);"
                }
                detail += " V: \(await server.node.peers().map { "\($0.direction) \($0.mode) \($0.id)" }) \(await server.node.statistics)"
                throw Failure(
                    description: "no relink within 120 s after \(killed ? "a kill" : "a clean stop") (sample \(sample)): "
                        + "\(pending.sorted());\(detail)")
            }
            for (name, dialer) in dialers where pending.contains(name) {
                if let now = await link(from: dialer, to: v, seenBy: server), now != before[name] {
                    let seconds = Double((ContinuousClock.now - restarted).components.attoseconds) / 1e18
                        + Double((ContinuousClock.now - restarted).components.seconds)
                    if killed { kill[name, default: []].append(seconds) } else { clean[name, default: []].append(seconds) }
                    pending.remove(name)
                }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
    for d in [server, p, h] { await d.stop() }
    await mixnet.stop()
    return (kill, clean)
}

// MARK: - Keepalive cost

/// Packets per link per minute on one idle link (visible or hidden dialer) with `adjust`'s keepalive.
func keepalive(hidden: Bool, adjust: @escaping @Sendable (inout NodeConfiguration) -> Void) async throws -> Double {
    var configuration = MixnetConfiguration()
    configuration.clientCount = 2
    let mixnet = try LocalMixnet(configuration: configuration, logger: quiet)
    try await mixnet.start()
    let directory = try temporaryDirectory()
    defer { _ = system("rm -rf '\(directory)'") }
    let v = await mixnet.endpoints[0].address
    let server = try await startDaemon(mixnet, endpoint: 0, directory: directory, hidden: false, bootstrap: [], target: 0, adjust: adjust)
    let dialer = try await startDaemon(mixnet, endpoint: 1, directory: directory, hidden: hidden, bootstrap: [v], target: 1, adjust: adjust)
    guard await waitFor(.seconds(60), { await link(from: dialer, to: v, seenBy: server) != nil }) else {
        throw Failure(description: "no link")
    }
    try await Task.sleep(for: .seconds(3))  // the handshake's getaddr/addr settle
    let start = await mixnet.counters.packetsSent
    let began = ContinuousClock.now
    try await Task.sleep(for: .seconds(idleSeconds))
    let packets = await mixnet.counters.packetsSent - start
    let elapsed = ContinuousClock.now - began
    let minutes = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / 60
    let linked = await link(from: dialer, to: v, seenBy: server) != nil
    for d in [server, dialer] { await d.stop() }
    await mixnet.stop()
    guard linked else { throw Failure(description: "the idle link died during the measurement") }
    return Double(packets) / minutes
}

func ms(_ seconds: Double?) -> String { seconds.map { Format.number($0 * 1000, decimals: 0) + " ms" } ?? "n/a" }

do {
    print("RelinkBench: \(samples) kills and \(samples) clean restarts of a visible node V with a visible and a hidden")
    print("dialer; silence probe \(probeSeconds) s (production 30 s); local mixnet with send pacing (20 ms)")
    let (kill, clean) = try await relink()
    var rows: [ResultRow] = []
    for name in ["visible", "hidden"] {
        let k = kill[name] ?? []
        let c = clean[name] ?? []
        let (k50, k99, c50, c99) = (
            Sample.median(k), Sample.percentile(k, 0.99), Sample.median(c), Sample.percentile(c, 0.99)
        )
        print("relink, \(name) dialer: after kill -9 p50 \(ms(k50)) p99 \(ms(k99)); after a clean stop p50 \(ms(c50)) p99 \(ms(c99))")
        for (label, figure, base) in [("p50", k50, c50), ("p99", k99, c99)] {
            rows.append(
                ResultRow(
                    benchmark: "relink after peer kill -9, \(name) dialer, \(label) (probe \(Format.number(probeSeconds)) s)",
                    figure: ms(figure), baseline: ms(base) + " clean stop",
                    ratio: (figure ?? 0) > 0 ? (base ?? 0) / figure! : nil))
        }
    }
    print("keepalive: idle links for \(idleSeconds) s each (visible, hidden; new and old keepalive, one after the other)")
    let new: @Sendable (inout NodeConfiguration) -> Void = { _ in }
    let old: @Sendable (inout NodeConfiguration) -> Void = { node in
        node.silenceProbe = .seconds(1_000_000)
    }
    for hidden in [false, true] where idleSeconds > 0 {
        let name = hidden ? "hidden" : "visible"
        let figure = try await keepalive(hidden: hidden, adjust: new)
        let base = try await keepalive(hidden: hidden, adjust: old)
        print("keepalive, \(name) link: \(Format.number(figure)) packets/min (silence probe 30 s); old 2-min ping \(Format.number(base))")
        rows.append(
            ResultRow(
                benchmark: "keepalive cost, idle \(name) link (probe 30 s)",
                figure: Format.number(figure) + " packets/min", baseline: Format.number(base) + " 2-min ping only",
                ratio: figure > 0 ? base / figure : nil))
    }
    print("")
    for row in rows { row.emit() }
} catch {
    Console.error("RelinkBench: \(error)")
    exit(1)
}
