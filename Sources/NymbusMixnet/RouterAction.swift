import NymClient
import NymbusTransport

/// What the routing core asks its I/O shell to do.
enum RouterAction: Sendable, Equatable {
    /// Push this message to the app attached to `endpoint` now.
    case deliver(endpoint: Int, message: ReceivedMessage)
    /// Answer a request that carried a connection id with the lane's queue length.
    case laneQueueLength(endpoint: Int, lane: UInt64, length: Int)
    /// Report a message entering the mixnet to the tap.
    case tap(MixnetTapEvent)
}
