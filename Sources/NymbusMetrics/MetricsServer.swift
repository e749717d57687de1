import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server for Prometheus: `GET /metrics` answers with the text exposition
/// (version 0.0.4) of ``MetricsRegistry``, built from the status numbers `collect` returns at
/// that moment. Every other path is 404, every other method 405. It listens on one address
/// (loopback unless the operator chose otherwise) and serves nothing else.
public actor MetricsServer {
    /// Returns the status map's integer entries, e.g. those of `NYMBUS.STATUS`.
    public typealias Collect = @Sendable () async -> [(key: String, value: Int64)]

    private let registry: MetricsRegistry
    private let collect: Collect
    private var channel: (any Channel)?

    /// Creates a server; nothing listens until ``start(address:)``.
    public init(version: String, collect: @escaping Collect) {
        self.registry = MetricsRegistry(version: version)
        self.collect = collect
    }

    /// Binds and starts serving. Returns the bound port (useful with port 0).
    ///
    /// - Throws: an error naming the address when it cannot be bound.
    public func start(address: MetricsAddress) async throws -> Int {
        let server = self
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try child.pipeline.syncOperations.addHandler(MetricsHTTPHandler(server: server))
                }
            }
        let bound: any Channel
        do {
            bound = try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch {
            throw MetricsAddress.Invalid(description: "cannot listen for metrics on \(address): \(error)")
        }
        channel = bound
        return bound.localAddress?.port ?? address.port
    }

    /// Stops listening (open scrapes finish on their own).
    public func stop() async {
        let open = channel
        channel = nil
        try? await open?.close()
    }

    /// The current exposition text.
    public func scrape() async -> String {
        let status = await collect()
        return registry.render(status)
    }
}

/// One HTTP connection: answers each request head once its end arrives.
private final class MetricsHTTPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: MetricsServer

    init(server: MetricsServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let keepAlive = head.isKeepAlive
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let loop = context.eventLoop
        let bound = NIOLoopBound(context, eventLoop: loop)
        let respond: @Sendable (HTTPResponseStatus, String, String) -> Void = { status, type, body in
            loop.execute {
                let context = bound.value
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: type)
                headers.add(name: "Content-Length", value: "\(body.utf8.count)")
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
                context.write(NIOAny(HTTPServerResponsePart.head(response)), promise: nil)
                if head.method != .HEAD {
                    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                }
                let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
                if !keepAlive { done.whenComplete { _ in bound.value.close(promise: nil) } }
            }
        }
        guard head.method == .GET || head.method == .HEAD else {
            respond(.methodNotAllowed, "text/plain; charset=utf-8", "only GET /metrics\n")
            return
        }
        guard path == "/metrics" else {
            respond(.notFound, "text/plain; charset=utf-8", "not found; metrics are at /metrics\n")
            return
        }
        let server = self.server
        Task {
            let text = await server.scrape()
            respond(.ok, "text/plain; version=0.0.4; charset=utf-8", text)
        }
    }
}
