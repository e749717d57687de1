// MemoryBench: the resident size of one node with 64 peers and a full seen cache, and the seen
// cache's bytes per entry (issue 7, item 4).
//
// The 64 peers and the local mixnet run in a child process (this executable with
// `--peers-process 64`), so this process's RSS holds exactly one node: a whole daemon (broker,
// topic layer, node, nym-client connection) with 64 inbound links.
//
//   MemoryBench [--peers 64] [--capacity 98304]
import BenchSupport

Console.lineBuffered()
let arguments = Arguments()
if arguments.flag("--peers-process") {
    await PeersProcess.main(peers: arguments.int("--peers-process", 64))
} else {
    await MemoryBench.main(arguments)
}
