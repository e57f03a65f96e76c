import Synchronization

/// What a live-events client may subscribe to (`/api/v1/events?topics=orders,fills`).
public enum LiveTopic: String, Sendable, CaseIterable, Hashable {
    /// Order updates (`gordon.exec.order.*`).
    case orders
    /// Fills (`gordon.exec.fill.*`).
    case fills
    /// The portfolio's equity, as gordon-risk counts it, after fills and closed klines.
    case equity
    /// Breaker trips and clears (`gordon.risk.breaker.*`).
    case breakers
    /// Risk's commands: halt, resume, flatten, a bot's pause and resume (`gordon.risk.command.*`).
    case halt
    /// Bots starting, stopping, losing their lease (`gordon.bot.lifecycle.*`).
    case bots

    /// The topic of an event on `subject`, or nil for one no client is sent (intents, market
    /// data, reconciliation findings).
    public init?(subject: String) {
        let tokens = subject.split(separator: ".", maxSplits: 3)
        guard tokens.count >= 3, tokens[0] == "gordon" else { return nil }
        switch (tokens[1], tokens[2]) {
        case ("exec", "order"): self = .orders
        case ("exec", "fill"): self = .fills
        case ("risk", "breaker"): self = .breakers
        case ("risk", "command"): self = .halt
        case ("bot", "lifecycle"): self = .bots
        default: return nil
        }
    }

    /// A comma-separated list; empty or absent means every topic.
    public static func parse(_ text: String?) -> Set<LiveTopic>? {
        guard let text, !text.isEmpty else { return Set(allCases) }
        var topics = Set<LiveTopic>()
        for word in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let topic = LiveTopic(rawValue: String(word)) else { return nil }
            topics.insert(topic)
        }
        return topics
    }
}

/// Who is sent which live event, and who is too slow to keep: a plain value, fed by the
/// fan-out, tested without sockets.
///
/// Each subscriber has a bounded queue. Offering an event never waits: it is queued for every
/// subscriber of its topic whose queue has room, and a subscriber whose queue is full is
/// dropped, so one slow browser never holds the others back nor grows the manager's memory.
public struct FanOutState: Sendable, Equatable {
    struct Subscriber: Sendable, Equatable {
        let topics: Set<LiveTopic>
        var queued: Int
    }

    public let capacity: Int
    private(set) var subscribers: [Int: Subscriber] = [:]
    private var nextId = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    public var count: Int { subscribers.count }

    public func isSubscribed(_ id: Int) -> Bool { subscribers[id] != nil }

    public func wants(_ topic: LiveTopic) -> Bool { subscribers.values.contains { $0.topics.contains(topic) } }

    public mutating func subscribe(to topics: Set<LiveTopic>) -> Int {
        nextId += 1
        subscribers[nextId] = Subscriber(topics: topics, queued: 0)
        return nextId
    }

    public mutating func unsubscribe(_ id: Int) { subscribers[id] = nil }

    public struct Delivery: Sendable, Equatable {
        public var to: [Int] = []
        public var dropped: [Int] = []
    }

    /// One event of `topic`: whom to send it to, whom to drop.
    public mutating func offer(_ topic: LiveTopic) -> Delivery {
        var delivery = Delivery()
        for (id, subscriber) in subscribers.sorted(by: { $0.key < $1.key }) where subscriber.topics.contains(topic) {
            if subscriber.queued >= capacity {
                subscribers[id] = nil
                delivery.dropped.append(id)
            } else {
                subscribers[id]!.queued += 1
                delivery.to.append(id)
            }
        }
        return delivery
    }

    /// One message for `id` alone; false (and `id` dropped) when its queue is full.
    public mutating func offer(to id: Int) -> Bool {
        guard let subscriber = subscribers[id] else { return false }
        guard subscriber.queued < capacity else {
            subscribers[id] = nil
            return false
        }
        subscribers[id]!.queued += 1
        return true
    }

    /// One message left `id`'s queue (it was written to the client).
    public mutating func sent(_ id: Int) {
        guard let queued = subscribers[id]?.queued, queued > 0 else { return }
        subscribers[id]!.queued = queued - 1
    }
}

/// The live-event fan-out: `FanOutState` behind a lock, and each subscriber's outgoing queue.
/// A dropped subscriber's `onDrop` runs at once (the socket closes it); its queue ends.
public final class EventFanOut: Sendable {
    public struct Subscription: Sendable {
        public let id: Int
        public let messages: AsyncStream<String>
    }

    private struct Outlet {
        let continuation: AsyncStream<String>.Continuation
        let onDrop: @Sendable () -> Void
    }

    private let state: Mutex<(fanOut: FanOutState, outlets: [Int: Outlet], dropped: Int)>

    public init(capacity: Int = 256) {
        state = Mutex((FanOutState(capacity: capacity), [:], 0))
    }

    public var subscriberCount: Int { state.withLock { $0.fanOut.count } }

    /// Subscribers dropped for being too slow, since the start.
    public var droppedCount: Int { state.withLock { $0.dropped } }

    public func wants(_ topic: LiveTopic) -> Bool { state.withLock { $0.fanOut.wants(topic) } }

    public func subscribe(to topics: Set<LiveTopic>, onDrop: @escaping @Sendable () -> Void) -> Subscription {
        // Unbounded here because FanOutState bounds it: nothing is yielded past its capacity.
        let (messages, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .unbounded)
        let id = state.withLock { state in
            let id = state.fanOut.subscribe(to: topics)
            state.outlets[id] = Outlet(continuation: continuation, onDrop: onDrop)
            return id
        }
        return Subscription(id: id, messages: messages)
    }

    public func unsubscribe(_ id: Int) {
        let outlet = state.withLock { state in
            state.fanOut.unsubscribe(id)
            return state.outlets.removeValue(forKey: id)
        }
        outlet?.continuation.finish()
    }

    /// The writer of `id` has sent one message.
    public func sent(_ id: Int) { state.withLock { $0.fanOut.sent(id) } }

    /// Queues `text` for the subscribers of `topic`; never waits.
    public func publish(_ text: String, topic: LiveTopic) {
        let dropped: [Outlet] = state.withLock { state in
            let delivery = state.fanOut.offer(topic)
            for id in delivery.to { state.outlets[id]?.continuation.yield(text) }
            state.dropped += delivery.dropped.count
            return delivery.dropped.compactMap { state.outlets.removeValue(forKey: $0) }
        }
        for outlet in dropped {
            outlet.continuation.finish()
            outlet.onDrop()
        }
    }

    /// One message to one subscriber (its first equity figure), under the same bound.
    public func send(_ text: String, to id: Int) {
        let dropped: Outlet? = state.withLock { state in
            let wasSubscribed = state.fanOut.isSubscribed(id)
            if state.fanOut.offer(to: id) {
                state.outlets[id]?.continuation.yield(text)
                return nil
            }
            guard wasSubscribed else { return nil }
            state.dropped += 1
            return state.outlets.removeValue(forKey: id)
        }
        dropped?.continuation.finish()
        dropped?.onDrop()
    }
}
