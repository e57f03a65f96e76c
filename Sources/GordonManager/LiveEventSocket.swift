public import Hummingbird
public import HummingbirdCore
import HummingbirdWebSocket
import HTTPTypes
import GordonKernel
import Logging
import NIOCore

extension ManagerAPI {
    public static let liveEventsPath = "/api/v1/events"

    /// The manager's HTTP server, with `GET /api/v1/events?topics=…` upgraded to a WebSocket of
    /// live events for an operator (the same authorization as every other call). A request
    /// the upgrade refuses (not an operator, an unknown topic, not a WebSocket) falls through
    /// to the router, which answers it with the error.
    public func server(fanOut: EventFanOut, feed: LiveEventFeed) -> HTTPServerBuilder {
        .http1WebSocketUpgrade(configuration: .init()) { head, channel, _ in
            let uri = URI(head.path ?? "/")
            guard head.method == .get, uri.path == Self.liveEventsPath,
                  let topics = LiveTopic.parse(uri.queryParameters.get("topics")),
                  let caller = try? await authorize(head.headerFields, on: channel)
            else { return .dontUpgrade }
            // Subscribed before the handshake is answered: an event published as the client
            // sees its connection up reaches it. A subscriber too slow to keep is cut off at
            // once: a close frame would wait behind everything it has not read.
            let subscription = fanOut.subscribe(to: topics, onDrop: { channel.close(promise: nil) })
            channel.closeFuture.whenComplete { _ in fanOut.unsubscribe(subscription.id) }
            logger.info("live events: subscribed", metadata: [
                "subscriber": "\(subscription.id)", "operator": "\(caller.name)", "topics": "\(topics.map(\.rawValue).sorted())",
            ])
            return .upgrade([:]) { inbound, outbound, _ in
                defer { fanOut.unsubscribe(subscription.id) }
                if topics.contains(.equity), let frame = try? await feed.equityFrame() { fanOut.send(frame, to: subscription.id) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Reading answers pings and notices a client that closes.
                    group.addTask {
                        for try await _ in inbound.messages(maxSize: 1 << 16) {}
                    }
                    group.addTask {
                        for await text in subscription.messages {
                            try await outbound.writeTextMessage(text)
                            fanOut.sent(subscription.id)
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Why `GET /api/v1/events` from an operator was not upgraded.
    static func liveEventsRefusal(_ request: Request) -> GordonError {
        guard LiveTopic.parse(request.uri.queryParameters.get("topics")) != nil else {
            return GordonError(.invalidRequest, "topics must be a comma-separated list of \(LiveTopic.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return GordonError(.invalidRequest, "\(Self.liveEventsPath) is a WebSocket: send an upgrade request")
    }
}
