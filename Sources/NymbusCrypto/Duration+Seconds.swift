extension Duration {
    /// The whole seconds of a duration, rounded down: the unit of the clocks that count seconds
    /// (the topic layer's repair and sync timers, object timestamps).
    package var wholeSeconds: Int64 { components.seconds }
}
