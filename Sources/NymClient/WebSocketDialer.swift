import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import NymbusCrypto

/// Opens one WebSocket to nym-client: TCP connect, HTTP/1.1 upgrade, then the frame pipeline
/// with nym-client's size limits (16 MiB frames, 64 MiB reassembled messages).
enum WebSocketDialer {
    /// An upgraded connection and the events it produces until it closes.
    struct Connection: Sendable {
        let channel: any Channel
        let events: AsyncStream<ConnectionEvent>
    }

    private enum Upgrade: Sendable {
        case upgraded(Connection)
        case notUpgraded
    }

    static func connect(
        _ configuration: NymClientConfiguration, group: any EventLoopGroup
    ) async throws(NymClientError) -> Connection {
        let host = configuration.host
        let port = configuration.port
        let path = configuration.path
        // nym-client (tungstenite) writes every message as one frame of up to 64 MiB, so inbound
        // frames are bounded by the message limit; `maxFrameSize` only splits what we send.
        let maxFrameSize = max(configuration.maxFrameSize, configuration.maxMessageSize)
        let maxMessageSize = configuration.maxMessageSize
        let handshakeTimeout = TimeAmount.nanoseconds(Int64(configuration.requestTimeout.seconds * 1e9))
        let upgrade: EventLoopFuture<Upgrade>
        do {
            upgrade = try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(Int64(configuration.connectTimeout.seconds * 1e9)))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(
                            maxFrameSize: maxFrameSize, enableAutomaticErrorHandling: true,
                            upgradePipelineHandler: { channel, _ in
                                channel.eventLoop.makeCompletedFuture {
                                    let (events, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
                                    try channel.pipeline.syncOperations.addHandlers(
                                        NIOWebSocketFrameAggregator(
                                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: Int(UInt16.max),
                                            maxAccumulatedFrameSize: maxMessageSize),
                                        WebSocketConnectionHandler(events: continuation))
                                    return Upgrade.upgraded(Connection(channel: channel, events: events))
                                }
                            })
                        var headers = HTTPHeaders()
                        headers.add(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
                        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                        let upgradeConfiguration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                            upgradeRequestHead: head, upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in
                                channel.close(promise: nil)
                                return channel.eventLoop.makeSucceededFuture(Upgrade.notUpgraded)
                            })
                        // nym-client pushes buffered messages right after the 101 reply; frames that
                        // share a TCP read with it must reach the WebSocket decoder, not be dropped.
                        var pipelineConfiguration = NIOUpgradableHTTPClientPipelineConfiguration(
                            upgradeConfiguration: upgradeConfiguration)
                        pipelineConfiguration.leftOverBytesStrategy = .forwardBytes
                        let result = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                            configuration: pipelineConfiguration)
                        let timeout = channel.eventLoop.scheduleTask(in: handshakeTimeout) {
                            channel.close(promise: nil)
                        }
                        result.whenComplete { _ in timeout.cancel() }
                        return result
                    }
                }
        } catch {
            throw NymClientError(.connectionFailed, "cannot connect to nym-client: \(ErrorText.withoutAddress(error))")
        }
        let outcome: Upgrade
        do { outcome = try await upgrade.get() } catch {
            throw NymClientError(.connectionFailed, "WebSocket handshake with nym-client failed: \(ErrorText.withoutAddress(error))")
        }
        switch outcome {
        case .upgraded(let connection):
            return connection
        case .notUpgraded:
            throw NymClientError(.connectionFailed, "nym-client refused the WebSocket upgrade")
        }
    }
}
