import BenchSupport
import Logging
import NymClient
import NymbusMixnet
import NymbusNode

#if canImport(Glibc)
    import Glibc
#endif

/// The child process: a local mixnet with `peers + 1` endpoints and `peers` nodes on endpoints
/// 1…peers. Prints `ready <endpoint 0 URL>`; on the line `dial` every node dials endpoint 0;
/// exits when its standard input closes.
enum PeersProcess {
    nonisolated static func main(peers: Int) async {
        let quiet = Logger(label: "memorybench.peers") { _ in SwiftLogNoOpLogHandler() }
        var nodes: [Node] = []
        do {
            var configuration = MixnetConfiguration()
            configuration.clientCount = peers + 1
            configuration.hopDelay = .zero
            configuration.sendDelay = .zero
            let mixnet = try LocalMixnet(configuration: configuration, logger: quiet)
            try await mixnet.start()
            let endpoints = await mixnet.endpoints
            for endpoint in endpoints.dropFirst() {
                let connection = NymClientConnection(
                    configuration: try NymClientConfiguration(url: endpoint.url), logger: quiet)
                try await connection.start()
                var node = NodeConfiguration(mode: .visible)
                node.outboundTarget = 0
                let n = Node(transport: connection, configuration: node, logger: quiet)
                try await n.start()
                nodes.append(n)
            }
            print("ready \(endpoints[0].url)")
            guard readLine() == "dial" else { exit(0) }
            let target = endpoints[0].address
            await withTaskGroup(of: Void.self) { group in
                for n in nodes {
                    group.addTask { for _ in 0..<5 { if (try? await n.connect(to: target)) != nil { return } } }
                }
            }
            print("dialed")
            while readLine() != nil {}
            exit(0)
        } catch {
            Console.error("MemoryBench peers: \(error)")
            exit(1)
        }
    }
}
