import Synchronization

/// Fans stream messages out to the WebSocket connections subscribed to them.
///
/// Each connection reads its own `AsyncStream`; finishing that stream is how the simulator
/// drops a connection (the fault that makes clients reconnect and backfill).
final class SimBroadcaster: Sendable {
    private struct Subscriber {
        let streams: Set<String>
        let combined: Bool
        /// A `/ws/<listenKey>` connection: user data events as they are.
        let userData: Bool
        /// A WebSocket API connection's subscription: user data events wrapped as
        /// `{"subscriptionId":N,"event":{…}}`.
        var userDataSubscription: Int?
        let outbox: AsyncStream<String>.Continuation
    }

    private let subscribers = Mutex<[Int: Subscriber]>([:])
    private let nextId = Mutex(0)

    /// A market-stream subscriber (`streams` lowercased, e.g. `btcusdt@kline_1m`) or a user
    /// data subscriber.
    func subscribe(streams: Set<String>, combined: Bool, userData: Bool) -> (id: Int, messages: AsyncStream<String>) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .unbounded)
        let id = nextId.withLock { value in
            value += 1
            return value
        }
        subscribers.withLock { $0[id] = Subscriber(streams: streams, combined: combined, userData: userData, outbox: continuation) }
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        let removed = subscribers.withLock { $0.removeValue(forKey: id) }
        removed?.outbox.finish()
    }

    /// Starts (or, with nil, ends) a WebSocket API connection's user data subscription.
    func setUserDataSubscription(_ id: Int, to subscriptionId: Int?) {
        subscribers.withLock { $0[id]?.userDataSubscription = subscriptionId }
    }

    /// One message to one connection (a WebSocket API reply), in order with its events.
    func send(_ text: String, to id: Int) {
        subscribers.withLock { $0[id] }?.outbox.yield(text)
    }

    var connectionCount: Int { subscribers.withLock { $0.count } }

    /// Sends a market event to the subscribers of `stream`: the raw payload to `/ws/<stream>`
    /// connections, the `{"stream":…,"data":…}` wrapper to `/stream?streams=` connections.
    func publishMarket(stream: String, raw: @autoclosure () -> String, combined: @autoclosure () -> String) {
        let targets = subscribers.withLock { all in all.values.filter { $0.streams.contains(stream) } }
        guard !targets.isEmpty else { return }
        let rawText = targets.contains(where: { !$0.combined }) ? raw() : ""
        let combinedText = targets.contains(where: { $0.combined }) ? combined() : ""
        for target in targets { target.outbox.yield(target.combined ? combinedText : rawText) }
    }

    func publishUserData(_ text: String) {
        let targets = subscribers.withLock { all in all.values.filter { $0.userData || $0.userDataSubscription != nil } }
        for target in targets {
            if let subscriptionId = target.userDataSubscription {
                target.outbox.yield("{\"subscriptionId\":\(subscriptionId),\"event\":\(text)}")
            } else {
                target.outbox.yield(text)
            }
        }
    }

    /// Ends every connection (clients see the socket close and must reconnect).
    func dropAll() -> Int {
        let all = subscribers.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        for subscriber in all { subscriber.outbox.finish() }
        return all.count
    }
}
