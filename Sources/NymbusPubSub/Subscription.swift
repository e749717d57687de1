/// A stream of the deliveries for one topic. Ends when unsubscribed or when the `PubSub` goes away.
///
/// Its buffer is bounded (`PubSubConfiguration.subscriptionBuffer`); deliveries that do not fit
/// are counted in `PubSubStatistics.subscriptionOverflow`, never dropped silently.
public struct Subscription: AsyncSequence, Sendable {
    public typealias Element = Delivery
    public typealias Failure = Never

    /// Identifies this subscription for `unsubscribe`.
    public let id: UInt64
    /// The topic subscribed to.
    public let topic: Topic
    let stream: AsyncStream<Delivery>

    /// Iterates the deliveries.
    public func makeAsyncIterator() -> AsyncStream<Delivery>.Iterator { stream.makeAsyncIterator() }
}

/// What receives deliveries pushed by `PubSub.subscribe(_:includeOwn:sink:)`: awaited for each
/// delivery, so a slow sink slows the topic layer instead of losing deliveries.
public typealias DeliverySink = @Sendable (Delivery) async -> Void

/// A subscription whose deliveries go to a sink; pass it to `PubSub.unsubscribe(_:)`.
public struct SinkSubscription: Sendable, Hashable {
    /// Identifies the subscription.
    public let id: UInt64
    /// The topic subscribed to.
    public let topicID: TopicID
}
