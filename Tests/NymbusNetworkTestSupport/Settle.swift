public import NymClient
public import NymbusMixnet
public import NymbusNode
import NymbusTestSupport
public import Testing

/// One node on a local mixnet, as quiescence sees it: its endpoint, its nym-client connection
/// and the node on top.
public struct MixnetMember: Sendable {
    public let endpoint: Int
    public let connection: NymClientConnection
    public let node: Node

    public init(endpoint: Int, connection: NymClientConnection, node: Node) {
        self.endpoint = endpoint
        self.connection = connection
        self.node = node
    }
}

/// Waits until nothing is on its way anywhere: the mixnet has nothing in flight (no packet
/// travelling, queued or held), every member's nym-client connection has nothing queued and has
/// read everything the mixnet pushed to it, every node has handled everything its connection
/// received, and no counter moved between two looks in a row (so the handling of the last
/// message counted, up to the topic layer and its subscribers, has had its turn). Then a message
/// that has not arrived is not coming (until a timer sends something new): "nothing more
/// arrives" on the system's own counters instead of a fixed sleep. Records an Issue if that
/// never happens.
@discardableResult
public func settle(
    _ mixnet: LocalMixnet, _ members: [MixnetMember], timeout: Duration = .seconds(60),
    sourceLocation: SourceLocation = #_sourceLocation
) async -> Bool {
    var previous: [Int]?
    var blocker = ""
    let settled = await waitUntil(timeout: timeout) {
        guard await mixnet.isQuiet else {
            blocker = "the mixnet has packets in flight (\(await mixnet.counters.messagesRouted) messages routed so far)"
            return false
        }
        var counters = [await mixnet.counters.messagesRouted]
        for member in members {
            let read = await member.connection.receivedBytesOnConnection
            let handled = await member.node.statistics.bytesIn
            let queued = await member.connection.queuedMessageCount
            let delivered = await mixnet.deliveredBytesOnConnection(member.endpoint)
            let received = await member.connection.receivedBytes
            guard queued == 0, delivered == read, received == handled else {
                // Whether its connection is up names the stall (a held queue with the socket up
                // is the client's; with the socket down, the reconnect's).
                let connected = await member.connection.isConnected
                let reconnects = await member.connection.reconnectCount
                let attached = await mixnet.isAttached(member.endpoint)
                blocker =
                    "endpoint \(member.endpoint): \(queued) queued, \(delivered) bytes pushed and \(read) read, \(received) received and \(handled) handled (connected \(connected) after \(reconnects) reconnects, attached at the mixnet \(attached))"
                return false
            }
            counters.append(handled)
        }
        defer { previous = counters }
        blocker = "counters still moving"
        return counters == previous
    }
    if !settled { Issue.record("the network did not settle within \(timeout): \(blocker)", sourceLocation: sourceLocation) }
    return settled
}
