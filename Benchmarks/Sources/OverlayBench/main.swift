// OverlayBench: a whole Nymbus network in one process (the local mixnet plus 50 daemons, some
// hidden), every node subscribed to one topic, objects published from random nodes; once with
// no mixing delay and once with the default 15 ms per hop (issue 7, item 3).
//
//   OverlayBench [--nodes 50] [--hidden 5] [--objects 50] [--delays 0,15] [--seed 7]
import BenchSupport

Console.lineBuffered()
await OverlayBench.main(Arguments())
