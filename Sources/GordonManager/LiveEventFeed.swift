public import GordonBus
public import GordonKernel
public import GordonNATS
import GordonProtocol
public import Logging
import NIOCore
public import PostgresNIO
import Synchronization

/// Feeds the live-event fan-out from one read-only JetStream consumer: the manager's own
/// durable (`gordon-manager-all`, every subject, from the events published after it was
/// first made). Each event of a topic someone follows is passed on as
/// `{"topic":…,"subject":…,"event":<the event as published>}`; fills and closed klines move the
/// equity, sent at most once a second as `{"topic":"equity","equity":{…}}`.
///
/// It never waits on a client: the fan-out queues or drops. A payload that is not a Gordon
/// event is logged and counted, not forwarded (the services that act on events dead-letter it).
public final class LiveEventFeed: Sendable {
    public static let durableName = "gordon-manager-all"

    let jetStream: JetStream
    let database: PostgresClient
    let fanOut: EventFanOut
    let logger: Logger
    let codec = EventCodec()
    let counters = Mutex((forwarded: 0, malformed: 0))
    /// A fill or a closed kline since the equity was last sent.
    let equityMoved = Mutex(false)

    public init(jetStream: JetStream, database: PostgresClient, fanOut: EventFanOut, logger: Logger) {
        self.jetStream = jetStream
        self.database = database
        self.fanOut = fanOut
        self.logger = logger
    }

    public var forwardedCount: Int { counters.withLock { $0.forwarded } }
    public var malformedCount: Int { counters.withLock { $0.malformed } }

    /// Pulls events and sends the equity until cancelled; failures are logged and retried.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.pull() }
            group.addTask { await self.sendEquity() }
            await group.waitForAll()
        }
    }

    private func pull() async {
        var failures = 0
        var consumerReady = false
        let consumer = jetStream.pullConsumer(stream: GordonStream.name, name: Self.durableName)
        while !Task.isCancelled {
            do {
                if !consumerReady {
                    var config = ConsumerConfig(durableName: Self.durableName, filterSubject: "gordon.>")
                    config.ackPolicy = .explicit
                    config.deliverPolicy = .new
                    config.ackWait = Duration.seconds(30).nanoseconds
                    config.maxAckPending = 1024
                    _ = try await jetStream.createConsumer(stream: GordonStream.name, config)
                    consumerReady = true
                }
                for message in try await consumer.next(batch: 64, expires: .seconds(2)) {
                    forward(message)
                    try await message.ackNoWait()
                }
                failures = 0
            } catch {
                if Task.isCancelled { break }
                failures += 1
                logger.warning("live event feed failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: retryBackoff(afterFailures: failures))
            }
        }
    }

    func forward(_ message: JetStreamMessage) {
        let subject = message.subject
        if subject.hasPrefix("gordon.exec.fill.") || subject.hasPrefix("gordon.market.kline.") {
            equityMoved.withLock { $0 = true }
        }
        guard let topic = LiveTopic(subject: subject), fanOut.wants(topic) else { return }
        let bytes = message.payload.readableBytesView
        do {
            let event = try codec.decodeAny(from: bytes)
            guard event.subject.string == subject else {
                throw GordonError(.malformedEvent, "event belongs on \(event.subject.string)")
            }
        } catch {
            counters.withLock { $0.malformed += 1 }
            logger.warning("live event not forwarded: not a Gordon event", metadata: [
                "subject": "\(subject)", "stream_seq": "\(message.metadata.streamSequence)", "error": "\(error)",
            ])
            return
        }
        var text = "{\"topic\":\"\(topic.rawValue)\",\"subject\":"
        JSONStringLiteral.append(subject, to: &text)
        text += ",\"event\":" + String(decoding: bytes, as: UTF8.self) + "}"
        fanOut.publish(text, topic: topic)
        counters.withLock { $0.forwarded += 1 }
    }

    private func sendEquity() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(1))  // the equity's rate: at most once a second
            } catch {
                break
            }
            guard equityMoved.withLock({ moved in defer { moved = false }; return moved }) else { continue }
            guard fanOut.wants(.equity) else { continue }
            do {
                fanOut.publish(try await equityFrame(), topic: .equity)
            } catch {
                equityMoved.withLock { $0 = true }  // try again next second
                logger.warning("equity not sent: the database did not answer", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The equity now, as a frame for the fan-out.
    public func equityFrame() async throws -> String {
        var text = "null"
        for try await (json,) in try await database.query(ManagerAPI.equityQuery, logger: logger).decode((String,).self) { text = json }
        return "{\"topic\":\"equity\",\"equity\":\(text)}"
    }
}
