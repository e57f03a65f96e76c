import GordonBus
import GordonDomain
import GordonKernel
import GordonMigrations
import GordonNATS
import GordonProtocol
import GordonTestDB
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Testing

/// Counts handler runs, and can be told to fail.
final class HandlerProbe: Sendable {
    private let state = NIOLockedValueBox((runs: [String](), failing: Set<String>()))
    var runs: [String] { state.withLockedValue { $0.runs } }
    func failAlways(_ id: String) { state.withLockedValue { _ = $0.failing.insert(id) } }

    var handler: EventConsumer.Handler {
        { event, connection in
            let id = event.eventId.string
            let fails = self.state.withLockedValue { state in
                state.runs.append(id)
                return state.failing.contains(id)
            }
            if fails { throw GordonError(.sqlFailed, "handler refuses \(id)") }
            // A real side effect in the same transaction as the processed-event record.
            try await connection.query("SELECT 1", logger: testLogger)
        }
    }
}

private func consumer(_ world: BusWorld, role: DatabaseRole = .risk, durable: String, logger: Logger = testLogger,
                      configure: (inout EventConsumer.Configuration) -> Void = { _ in }) async throws -> EventConsumer {
    var configuration = EventConsumer.Configuration(durableName: durable, filterSubject: "gordon.market.metric.>")
    configuration.fetchExpiry = .milliseconds(300)
    configuration.retryDelay = .milliseconds(50)
    configure(&configuration)
    let database = world.database
    let consumer = EventConsumer(configuration: configuration, jetStream: world.jetStream, logger: logger) {
        try await database.connect(as: role)
    }
    try await consumer.ensureConsumer()
    return consumer
}

private func count(_ sql: String, in world: BusWorld, as role: DatabaseRole = .risk) async throws -> Int {
    try await withConnection(try await world.database.connect(as: role)) { connection in
        for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: testLogger).decode(Int.self) { return value }
        return -1
    }
}

@Suite struct EventConsumerTests {
    @Test func eachEventTakesEffectOnceEvenWhenDeliveredAgain() async throws {
        try await BusWorld.with { world in
            let publisher = JetStreamEventPublisher(jetStream: world.jetStream)
            var events: [EventEnvelope<MetricEvent>] = []
            for i in 0..<20 {
                let event = try metricEvent(i)
                events.append(event)
                _ = try await publisher.publish(event)
            }
            // The same event published again (a producer retry) is a stream duplicate.
            #expect(try await publisher.publish(events[0]).duplicate)

            let probe = HandlerProbe()
            let consumer = try await consumer(world, durable: "risk-metrics")
            let first = try await world.jetStream.pullConsumer(stream: GordonStream.name, name: "risk-metrics").fetch(batch: 20)
            let outcomes = try await withConnection(try await world.database.connect(as: .risk)) { connection in
                var outcomes: [EventConsumer.Outcome] = []
                for message in first { outcomes.append(try await consumer.process(message, on: connection, handler: probe.handler)) }
                // Delivered again (as after a crash between commit and ack): recognised.
                outcomes.append(try await consumer.process(first[3], on: connection, handler: probe.handler))
                return outcomes
            }
            #expect(outcomes.prefix(20).allSatisfy { $0 == .processed })
            #expect(outcomes.last == .duplicate)
            #expect(probe.runs == events.map(\.eventId.string))
            #expect(try await count("SELECT count(*)::int FROM trading.processed_events WHERE consumer = 'risk-metrics'", in: world) == 20)
        }
    }

    @Test func anUnackedEventIsRedeliveredButNotAppliedTwice() async throws {
        try await BusWorld.with { world in
            _ = try await JetStreamEventPublisher(jetStream: world.jetStream).publish(try metricEvent(1))
            let probe = HandlerProbe()
            let consumer = try await consumer(world, durable: "risk-redeliver") { $0.ackWait = .seconds(1) }
            // Commit the effect, then "crash" before the ack: run the transaction by hand.
            let pull = world.jetStream.pullConsumer(stream: GordonStream.name, name: "risk-redeliver")
            let message = try #require(try await pull.fetch(batch: 1).first)
            try await withConnection(try await world.database.connect(as: .risk)) { connection in
                let event = try EventCodec().decodeAny(from: message.payload.readableBytesView)
                try await connection.query("""
                    INSERT INTO trading.processed_events (consumer, event_id, stream_seq)
                    VALUES ('risk-redeliver', \(event.eventId.string)::uuid, \(Int64(message.metadata.streamSequence)))
                    """, logger: testLogger)
            }
            let task = Task { await consumer.run(probe.handler) }
            #expect(try await eventually(timeout: .seconds(20)) { consumer.statistics.duplicates == 1 })
            task.cancel()
            await task.value
            #expect(probe.runs.isEmpty)
            #expect(try await pull.info().numAckPending == 0)
        }
    }

    @Test func garbageGoesToTheDeadLetterTableAndTheConsumerCarriesOn() async throws {
        try await BusWorld.with { world in
            let js = world.jetStream
            _ = try await js.publish(Array("not json".utf8), to: "gordon.market.metric.fear_greed")
            _ = try await js.publish(Array(#"{"schema_version":1,"type":"metric""#.utf8), to: "gordon.market.metric.fear_greed")
            // A valid event on the wrong subject is refused too (it could be a forgery).
            _ = try await js.publish(try EventCodec().encode(try metricEvent(5, name: "other")), to: "gordon.market.metric.fear_greed")
            let good = try metricEvent(6)
            _ = try await JetStreamEventPublisher(jetStream: js).publish(good)

            let probe = HandlerProbe()
            let recorder = LogRecorder()
            let consumer = try await consumer(world, durable: "risk-garbage", logger: recorder.logger)
            let task = Task { await consumer.run(probe.handler) }
            #expect(try await eventually(timeout: .seconds(20)) { consumer.statistics.processed == 1 && consumer.statistics.deadLettered == 3 })
            task.cancel()
            await task.value
            #expect(probe.runs == [good.eventId.string])
            let deadLetterLines = recorder.records.filter { $0.level == .error && $0.message == "event dead-lettered" }
            #expect(deadLetterLines.count == 3)
            #expect(deadLetterLines.allSatisfy { $0.metadata["subject"] == "gordon.market.metric.fear_greed" && $0.metadata["code"] == "GORDON-PROTO-0002" })
            #expect(try await count("SELECT count(*)::int FROM trading.dead_letters WHERE consumer = 'risk-garbage' AND error_code = 'GORDON-PROTO-0002'", in: world) == 3)
            // Terminated, so never delivered again.
            #expect(try await world.jetStream.pullConsumer(stream: GordonStream.name, name: "risk-garbage").info().numAckPending == 0)
        }
    }

    @Test func aHandlerThatKeepsFailingIsRetriedThenDeadLettered() async throws {
        try await BusWorld.with { world in
            let poison = try metricEvent(1)
            let after = try metricEvent(2)
            let publisher = JetStreamEventPublisher(jetStream: world.jetStream)
            _ = try await publisher.publish(poison)
            _ = try await publisher.publish(after)
            let probe = HandlerProbe()
            probe.failAlways(poison.eventId.string)
            let consumer = try await consumer(world, durable: "risk-poison") { $0.maxDeliveries = 3 }
            let task = Task { await consumer.run(probe.handler) }
            #expect(try await eventually(timeout: .seconds(30)) { consumer.statistics.deadLettered == 1 && consumer.statistics.processed == 1 })
            task.cancel()
            await task.value
            #expect(probe.runs.filter { $0 == poison.eventId.string }.count == 3)
            #expect(consumer.statistics.retries == 2)
            #expect(try await count("SELECT deliveries FROM trading.dead_letters WHERE consumer = 'risk-poison'", in: world) == 3)
            // The failed attempts left no processed-event record behind.
            #expect(try await count("SELECT count(*)::int FROM trading.processed_events WHERE consumer = 'risk-poison'", in: world) == 1)
        }
    }

    @Test func rowLevelSecurityKeepsConsumersApart() async throws {
        try await BusWorld.with { world in
            _ = try await JetStreamEventPublisher(jetStream: world.jetStream).publish(try metricEvent(1))
            let consumer = try await consumer(world, role: .risk, durable: "risk-own")
            let task = Task { await consumer.run(HandlerProbe().handler) }
            #expect(try await eventually(timeout: .seconds(20)) { consumer.statistics.processed == 1 })
            task.cancel()
            await task.value
            #expect(try await count("SELECT count(*)::int FROM trading.processed_events", in: world, as: .risk) == 1)
            #expect(try await count("SELECT count(*)::int FROM trading.processed_events", in: world, as: .bot) == 0)
        }
    }
}
