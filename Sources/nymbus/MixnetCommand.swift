import ArgumentParser
import Dispatch
import Logging
import NymbusMixnet

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#elseif canImport(Musl)
    import Musl
#endif

/// `nymbus mixnet`: run the local stand-in for the Nym mixnet.
///
/// Starts N simulated nym-clients on consecutive loopback ports, prints each one's WebSocket URL
/// and Nym address, and routes between them until SIGINT or SIGTERM. Nodes connect to it exactly
/// as to a real `nym-client`.
struct MixnetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mixnet",
        abstract: "Run a local mixnet: N simulated nym-clients on loopback WebSockets.",
        discussion: """
            Each endpoint speaks nym-client's WebSocket API (binary and JSON) and has a stable Nym \
            address. Messages between endpoints get an exponential delay per hop (3 mix layers \
            and a gateway), no ordering, optional loss and duplication, sender tags and reply \
            SURBs with nym-client's reserve, top-up and silent-drop rules. Point a node at an \
            endpoint's URL as you would at ws://127.0.0.1:1977. Stop with Ctrl-C (SIGINT) or SIGTERM.
            """)

    @Option(name: .long, help: "Number of simulated nym-clients (endpoints).")
    var clients: Int = 3

    @Option(
        name: .long,
        help: "Port of the first endpoint; endpoint i listens on PORT+i. 0 picks free ports.")
    var port: Int = 1977

    @Option(name: .long, help: "Listen host. Only loopback hosts are accepted (127.0.0.0/8, ::1, localhost).")
    var host: String = "127.0.0.1"

    @Option(
        name: .customLong("hop-delay-ms"),
        help: "Mean of the exponential delay per hop in milliseconds (4 hops per packet; 0 = immediate).")
    var hopDelayMilliseconds: Double = 15

    @Option(name: .long, help: "Probability (0...1) that a message is lost in the mixnet.")
    var loss: Double = 0

    @Option(name: .long, help: "Probability (0...1) that a message is delivered twice.")
    var duplicate: Double = 0

    @Option(
        name: .customLong("state-dir"),
        help: "Directory that keeps the endpoint addresses across restarts (mixnet-state.json).")
    var stateDirectory: String?

    @Option(name: .long, help: "Seed for delays, losses, duplicates and sender tags (default: random).")
    var seed: UInt64?

    @OptionGroup var pacing: MixnetPacingOptions

    func validate() throws {
        guard MixnetConfiguration.isLoopback(host) else {
            throw ValidationError(
                "--host \(host) is not a loopback address; the local mixnet only listens on 127.0.0.1, ::1 or localhost"
            )
        }
        guard clients >= 1 else { throw ValidationError("--clients must be at least 1") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be within 0...65535") }
        guard port == 0 || port + clients - 1 <= 65535 else {
            throw ValidationError("\(clients) endpoints from port \(port) go past port 65535")
        }
        guard hopDelayMilliseconds >= 0, hopDelayMilliseconds.isFinite else {
            throw ValidationError("--hop-delay-ms must be a non-negative number")
        }
        guard (0...1).contains(loss) else { throw ValidationError("--loss must be within 0...1") }
        guard (0...1).contains(duplicate) else { throw ValidationError("--duplicate must be within 0...1") }
    }

    func run() async throws {
        var configuration = MixnetConfiguration()
        configuration.clientCount = clients
        configuration.firstPort = port
        configuration.host = host
        configuration.hopDelay = .microseconds(Int64((hopDelayMilliseconds * 1000).rounded()))
        configuration.lossProbability = loss
        configuration.duplicateProbability = duplicate
        configuration.stateDirectory = stateDirectory
        configuration.seed = seed
        pacing.apply(to: &configuration)

        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        let mixnet = try LocalMixnet(configuration: configuration, logger: Logger(label: "nymbus.mixnet"))
        try await mixnet.start()
        let endpoints = await mixnet.endpoints
        print(
            "nymbus mixnet: \(endpoints.count) endpoint(s), mean delay \(hopDelayMilliseconds) ms per hop "
                + "× \(MixnetConfiguration.hopCount) hops, \(MixnetPacingOptions.describe(configuration)), "
                + "loss \(loss), duplicate \(duplicate)")
        for endpoint in endpoints {
            print("endpoint \(endpoint.index)  \(endpoint.url)  \(endpoint.address)")
        }
        print("Ready. Stop with Ctrl-C.")
        flushStandardOutput()

        let received = await signals.next()
        print("\nreceived signal \(received ?? 0); stopping")
        await mixnet.stop()
        let counters = await mixnet.counters
        print(
            "routed \(counters.messagesRouted), delivered \(counters.messagesDelivered), "
                + "lost \(counters.droppedByLoss), duplicated \(counters.duplicated), "
                + "replies dropped (unknown tag \(counters.repliesDroppedUnknownTag), "
                + "no SURBs \(counters.repliesDroppedNoSurbs)), SURB requests \(counters.surbRequests)")
    }

    private func flushStandardOutput() {
        fflush(nil)  // all output streams: the URLs must show up even when stdout is a pipe
    }
}
