import GordonKernel
import GordonNATS
import GordonTestDB
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Faults with a real server process: killed with SIGKILL and restarted on the same port
/// and store, as a crash and a supervisor restart would.
@Suite struct ReconnectTests {
    private func connect(_ server: TestNATSServer, name: String) async throws -> NATSClient {
        var options = try NATSClientOptions(urls: [server.url], name: name)
        options.reconnect = NATSReconnectPolicy(initialDelay: .milliseconds(20), maxDelay: .milliseconds(500))
        options.requestTimeout = .seconds(2)
        return try await NATSClient.connect(options, logger: Logger(label: "test.\(name)"))
    }

    @Test func reconnectsResubscribesAndSendsWhatWasBufferedWhileDown() async throws {
        let server = try await TestNATSServer()
        let client = try await connect(server, name: "survivor")
        let subscription = try await client.subscribe(to: "fault.core")
        try await client.flush()
        try await client.publish("before", to: "fault.core")
        try await client.flush()

        await server.kill()
        #expect(try await eventually(timeout: .deadline) { !client.isConnected })
        try await client.publish("while-down", to: "fault.core")  // kept in the reconnect buffer
        try await server.start()
        #expect(try await eventually(timeout: .deadline) { client.isConnected })
        try await client.publish("after", to: "fault.core")
        try await client.flush()

        #expect(try await collect(subscription, count: 3).map(\.string) == ["before", "while-down", "after"])
        #expect(client.statistics.reconnects == 1)
        await client.close()
    }

    @Test("a request in flight when the connection drops fails at once, not at its timeout")
    func inFlightRequestFailsOnLoss() async throws {
        let server = try await TestNATSServer()
        let responder = try await connect(server, name: "silent")
        let silent = try await responder.subscribe(to: "silent.service")  // never answers
        try await responder.flush()
        let client = try await connect(server, name: "asker")
        let failure = NIOLockedValueBox<GordonError?>(nil)
        let asked = Task {
            do {
                _ = try await client.request(Array("?".utf8), to: "silent.service", timeout: .seconds(120))
            } catch {
                failure.withLockedValue { $0 = error as? GordonError ?? GordonError(.natsServerError, "\(error)") }
            }
        }
        try await client.flush()
        #expect(try await eventually(timeout: .deadline) { client.statistics.messagesOut >= 1 })
        await server.kill()
        #expect(try await eventually(timeout: .seconds(30)) { failure.withLockedValue { $0 } != nil })
        #expect(failure.withLockedValue { $0 }?.code == .natsConnectionClosed)
        asked.cancel()
        _ = silent
        await client.close()
        await responder.close()
    }

    @Test("a publish that must not wait for the reconnect fails while the connection is down")
    func unbufferedPublishFailsWhileDown() async throws {
        let server = try await TestNATSServer()
        let client = try await connect(server, name: "ordered")
        await server.kill()
        #expect(try await eventually(timeout: .deadline) { !client.isConnected })
        let js = JetStream(client: client)
        let refused = await #expect(throws: GordonError.self) {
            _ = try await js.publishAsync(Array("x".utf8), to: "gordon.any", bufferWhileDisconnected: false)
        }
        #expect(refused?.code == .natsConnectionClosed)
        #expect(client.statistics.messagesOut == 0)
        await client.close()
    }

    @Test func reconnectBufferHasAnExplicitBound() async throws {
        let server = try await TestNATSServer()
        var options = try NATSClientOptions(urls: [server.url], name: "bounded")
        options.reconnectBufferBytes = 4096
        options.reconnect = NATSReconnectPolicy(initialDelay: .seconds(60), maxDelay: .seconds(60))
        let client = try await NATSClient.connect(options)
        await server.kill()
        #expect(try await eventually(timeout: .deadline) { !client.isConnected })
        var accepted = 0
        var refusal: GordonError?
        for _ in 0..<100 {
            do {
                try await client.publish([UInt8](repeating: 7, count: 100), to: "fault.bound")
                accepted += 1
            } catch {
                refusal = error
                break
            }
        }
        #expect(refusal?.code == .natsReconnectBufferFull)
        #expect(accepted > 20 && accepted < 40)  // ~4096 / (100 + framing)
        await client.close()
    }

    @Test func requestDuringAnOutageFailsWithATypedError() async throws {
        let server = try await TestNATSServer()
        let client = try await connect(server, name: "requester")
        await server.kill()
        #expect(try await eventually(timeout: .deadline) { !client.isConnected })
        let error = await #expect(throws: GordonError.self) {
            _ = try await client.request(Array("x".utf8), to: "fault.nobody", timeout: .milliseconds(300))
        }
        #expect(error?.code == .natsTimeout)
        await #expect(throws: GordonError.self) { try await client.flush(timeout: .milliseconds(200)) }
        await client.close()
    }

    @Test func jetStreamConsumerResumesAfterServerCrashWithNoGapAndNoDuplicateEffect() async throws {
        let server = try await TestNATSServer()
        let producer = try await connect(server, name: "producer")
        let consumerClient = try await connect(server, name: "consumer")
        // Publishes retry on a short timeout (a publish lost in the crash is sent again);
        // administration on a CI host whose cores run every other suite gets longer, as in
        // JetStreamTests: creating a file-backed stream there has taken more than 2 s.
        let js = JetStream(client: producer, timeout: .seconds(2))
        let administration = JetStream(client: producer, timeout: .seconds(20))
        _ = try await administration.createStream(StreamConfig(name: "FAULT", subjects: ["fault.js.>"]))
        _ = try await administration.createConsumer(stream: "FAULT", ConsumerConfig(durableName: "worker", filterSubject: "fault.js.>"))
        let consumer = JetStream(client: consumerClient, timeout: .seconds(2)).pullConsumer(stream: "FAULT", name: "worker")

        let total = 600
        let effects = EffectLog()
        let reader = Task {
            while await effects.count < total {
                guard let batch = try? await consumer.fetch(batch: 50, expires: .milliseconds(500)) else { continue }
                for message in batch {
                    // The side effect is idempotent by message id, as a Gordon consumer's is by event id.
                    await effects.apply(id: message.headers?[NATSHeaders.messageId] ?? "?", redelivered: message.metadata.deliveries > 1)
                    try? await message.ack()
                }
            }
        }
        // Publish with retries: the same Nats-Msg-Id every time, so a retry after a lost ack
        // cannot store the message twice.
        for i in 1...total {
            if i == total / 2 {
                await server.kill()
                try await server.start()
            }
            var stored = false
            while !stored {
                do {
                    _ = try await js.publish(Array("\(i)".utf8), to: "fault.js.\(i % 4)", messageId: "msg-\(i)")
                    stored = true
                } catch {
                    _ = try await eventually(timeout: .deadline) { producer.isConnected }
                }
            }
        }
        #expect(try await eventually(timeout: .seconds(60)) { await effects.count == total })
        reader.cancel()
        #expect(await effects.ids == (1...total).map { "msg-\($0)" })
        #expect(await effects.duplicateApplications == 0)
        #expect(try await administration.streamInfo("FAULT").state.messages == UInt64(total))
        #expect(producer.statistics.reconnects >= 1 && consumerClient.statistics.reconnects >= 1)
        await producer.close()
        await consumerClient.close()
    }
}

actor EffectLog {
    private(set) var ids: [String] = []
    private var seen: Set<String> = []
    private(set) var duplicateApplications = 0
    private(set) var redeliveries = 0
    var count: Int { ids.count }

    func apply(id: String, redelivered: Bool) {
        if redelivered { redeliveries += 1 }
        guard seen.insert(id).inserted else { return }
        ids.append(id)
    }
}
