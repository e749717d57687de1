import Testing

/// The first `count` elements of `stream`, or fewer if `timeout` passes first.
func collect<T: Sendable>(_ stream: AsyncStream<T>, count: Int, timeout: Duration = .seconds(20)) async -> [T] {
    await withTaskGroup(of: [T]?.self) { group in
        group.addTask {
            var out: [T] = []
            for await element in stream {
                out.append(element)
                if out.count == count { break }
            }
            return out
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first ?? []
    }
}
