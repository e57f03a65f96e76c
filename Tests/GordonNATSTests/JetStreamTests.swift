import GordonKernel
@testable import GordonNATS
import GordonTestDB
import NIOCore
import Synchronization
import Testing

/// A stream of its own for each test on the shared server, deleted at the end.
private func withStream(_ body: (JetStream, String, String) async throws -> Void) async throws {
    let client = try await connectShared(name: "js")
    // Stream administration on a CI machine whose two cores also run every other suite:
    // give the server more than the client's 5 s default before calling it lost.
    let js = JetStream(client: client, timeout: .seconds(20))
    let name = "T\(UInt32.random(in: 0...UInt32.max))"
    let root = "js.\(name.lowercased())"
    var config = StreamConfig(name: name, subjects: ["\(root).>"])
    config.storage = "memory"
    config.duplicateWindow = 60_000_000_000
    _ = try await js.createStream(config)
    do {
        try await body(js, name, root)
    } catch {
        try? await js.deleteStream(name)
        await client.close()
        throw error
    }
    try await js.deleteStream(name)
    await client.close()
}

private func durable(_ js: JetStream, stream: String, filter: String, configure: (inout ConsumerConfig) -> Void = { _ in }) async throws -> PullConsumer {
    var config = ConsumerConfig(durableName: "d\(UInt32.random(in: 0...UInt32.max))", filterSubject: filter)
    configure(&config)
    let info = try await js.createConsumer(stream: stream, config)
    return js.pullConsumer(stream: stream, name: info.name)
}

@Suite struct JetStreamTests {
    @Test func streamLifecycleAndTypedAPIErrors() async throws {
        try await withStream { js, name, root in
            let info = try await js.streamInfo(name)
            #expect(info.config.subjects == ["\(root).>"])
            #expect(info.config.duplicateWindow == 60_000_000_000)
            var update = info.config
            update.maxMessages = 1000
            #expect(try await js.updateStream(update).config.maxMessages == 1000)
            let missing = await #expect(throws: GordonError.self) { _ = try await js.streamInfo("NOPE\(name)") }
            #expect(missing?.code == .jetStreamNotFound)
            #expect(missing?.context["err_code"] == "10059")
            let clash = await #expect(throws: GordonError.self) {
                _ = try await js.createStream(StreamConfig(name: name, subjects: ["other.subject"]))
            }
            #expect(clash?.code == .jetStreamAPIError)
            #expect(clash?.context["err_code"] != nil)
        }
    }

    @Test func publishIsAcknowledgedWithSequenceAndDuplicatesAreFlagged() async throws {
        try await withStream { js, name, root in
            let first = try await js.publish(Array("a".utf8), to: "\(root).x", messageId: "m-1", expectedStream: name)
            #expect(first.stream == name && first.sequence == 1 && !first.duplicate)
            let again = try await js.publish(Array("a".utf8), to: "\(root).x", messageId: "m-1")
            #expect(again.duplicate && again.sequence == 1)
            let second = try await js.publish(Array("b".utf8), to: "\(root).x", messageId: "m-2")
            #expect(second.sequence == 2 && !second.duplicate)
            #expect(try await js.streamInfo(name).state.messages == 2)
            let wrong = await #expect(throws: GordonError.self) {
                _ = try await js.publish(Array("c".utf8), to: "\(root).x", expectedStream: "OTHER")
            }
            #expect(wrong?.code == .jetStreamPublishRejected)
            let nowhere = await #expect(throws: GordonError.self) {
                _ = try await js.publish(Array("d".utf8), to: "nostream.\(name)")
            }
            #expect(nowhere?.code == .jetStreamNotFound)
        }
    }

    @Test func asyncPublishesAreAckedInOrder() async throws {
        try await withStream { js, name, root in
            var pending: [EventLoopFuture<PubAck>] = []
            for i in 0..<2000 { pending.append(try await js.publishAsync(Array("\(i)".utf8), to: "\(root).bulk", messageId: "b-\(i)")) }
            var sequences: [UInt64] = []
            for future in pending { sequences.append(try await future.get().sequence) }
            #expect(sequences == (1...2000).map(UInt64.init))
            #expect(try await js.streamInfo(name).state.lastSequence == 2000)
        }
    }

    @Test func pullConsumerAckNakTermAndRedeliveryCount() async throws {
        try await withStream { js, name, root in
            for i in 1...3 { _ = try await js.publish(Array("\(i)".utf8), to: "\(root).work") }
            let consumer = try await durable(js, stream: name, filter: "\(root).work") { $0.ackWait = 30_000_000_000 }
            let batch = try await consumer.fetch(batch: 3, expires: .seconds(5))
            #expect(batch.map { String(buffer: $0.payload) } == ["1", "2", "3"])
            #expect(batch.map(\.metadata.deliveries) == [1, 1, 1])
            #expect(batch.map(\.metadata.streamSequence) == [1, 2, 3])
            try await batch[0].ack()
            try await batch[1].nak()
            try await batch[2].term()
            let redelivered = try await consumer.fetch(batch: 3, expires: .seconds(2))
            #expect(redelivered.map { String(buffer: $0.payload) } == ["2"])
            #expect(redelivered.first?.metadata.deliveries == 2)
            try await redelivered[0].inProgress()
            try await redelivered[0].ack()
            let info = try await consumer.info()
            #expect(info.numAckPending == 0)
            #expect(info.ackFloor.streamSequence == 3)
            #expect(try await consumer.fetch(batch: 1, expires: .milliseconds(300)).isEmpty)
        }
    }

    /// A plain fetch of 64 would hold these until its expiry (a minute here): `next` hands
    /// over what is ready, and when nothing is, the first message as it arrives.
    @Test func nextHandsOverWhatIsReadyWithoutWaitingForAFullBatch() async throws {
        try await withStream { js, name, root in
            let consumer = try await durable(js, stream: name, filter: "\(root).ready")
            for i in 1...3 { _ = try await js.publish(Array("\(i)".utf8), to: "\(root).ready") }
            let ready = Handover { try await consumer.next(batch: 64, expires: .seconds(60)) }
            #expect(try await eventually(timeout: .seconds(20)) { ready.isDone })
            let first = try await ready.task.value
            #expect(first.map { String(buffer: $0.payload) } == ["1", "2", "3"])
            for message in first { try await message.ack() }

            let waiting = Handover { try await consumer.next(batch: 64, expires: .seconds(60)) }
            _ = try await js.publish(Array("4".utf8), to: "\(root).ready")
            #expect(try await eventually(timeout: .seconds(20)) { waiting.isDone })
            #expect(try await waiting.task.value.map { String(buffer: $0.payload) } == ["4"])
        }
    }

    @Test func nakWithDelayHoldsTheMessageBack() async throws {
        try await withStream { js, name, root in
            _ = try await js.publish(Array("x".utf8), to: "\(root).delay")
            let consumer = try await durable(js, stream: name, filter: "\(root).delay")
            let first = try #require(try await consumer.fetch(batch: 1).first)
            let nakAt = ContinuousClock.now
            try await first.nak(delay: .milliseconds(1500))
            // Not back within a short fetch, back within a long one, and not before the delay.
            #expect(try await consumer.fetch(batch: 1, expires: .milliseconds(300)).isEmpty)
            let again = try #require(try await consumer.fetch(batch: 1, expires: .seconds(5)).first)
            #expect(ContinuousClock.now - nakAt >= .milliseconds(1400))
            #expect(again.metadata.deliveries == 2)
            try await again.ack()
        }
    }

    @Test func maxDeliverStopsRedelivery() async throws {
        try await withStream { js, name, root in
            _ = try await js.publish(Array("poison".utf8), to: "\(root).p")
            let consumer = try await durable(js, stream: name, filter: "\(root).p") { $0.maxDeliver = 2 }
            for expected in 1...2 {
                let message = try #require(try await consumer.fetch(batch: 1).first)
                #expect(message.metadata.deliveries == expected)
                try await message.nak()
            }
            #expect(try await consumer.fetch(batch: 1, expires: .milliseconds(500)).isEmpty)
        }
    }

    @Test func fetchWithHeartbeatsReturnsWhatIsThere() async throws {
        try await withStream { js, name, root in
            for i in 0..<5 { _ = try await js.publish(Array("\(i)".utf8), to: "\(root).hb") }
            let consumer = try await durable(js, stream: name, filter: "\(root).hb")
            let messages = try await consumer.fetch(batch: 10, expires: .seconds(2), idleHeartbeat: .milliseconds(500))
            #expect(messages.count == 5)
            for message in messages { try await message.ackNoWait() }
        }
    }

    @Test func orderedConsumerReadsEverythingInStreamOrder() async throws {
        try await withStream { js, name, root in
            for i in 0..<300 { _ = try await js.publishAsync(Array("\(i)".utf8), to: "\(root).o.\(i % 3)") }
            try await js.client.flush()
            let ordered = OrderedConsumer(jetStream: js, stream: name, filterSubject: "\(root).o.>")
            var sequences: [UInt64] = []
            #expect(try await eventually(timeout: .deadline) {
                sequences += try await ordered.next(batch: 128, expires: .milliseconds(500)).map(\.metadata.streamSequence)
                return sequences.count >= 300
            })
            #expect(sequences == (1...300).map(UInt64.init))
        }
    }

    @Test func ackSubjectMetadataParsesBothFormats() throws {
        let v1 = try JetStreamMetadata(replySubject: "$JS.ACK.ORDERS.c1.3.42.17.1700000000000000000.5")
        #expect(v1.stream == "ORDERS" && v1.consumer == "c1" && v1.deliveries == 3 && v1.streamSequence == 42 && v1.consumerSequence == 17 && v1.pending == 5)
        let v2 = try JetStreamMetadata(replySubject: "$JS.ACK.hub.ACCHASH.ORDERS.c1.1.7.7.1700000000000000000.0.rnd")
        #expect(v2.stream == "ORDERS" && v2.streamSequence == 7)
        #expect(throws: GordonError.self) { try JetStreamMetadata(replySubject: "$JS.ACK.ORDERS.c1.x.42.17.1.5") }
        #expect(throws: GordonError.self) { try JetStreamMetadata(replySubject: "_INBOX.abc") }
    }
}

@Suite struct PubAckParsingTests {
    @Test(arguments: [
        (#"{"stream":"GORDON","seq":42}"#, PubAck(stream: "GORDON", sequence: 42, duplicate: false)),
        (#"{"stream":"GORDON","seq":7,"duplicate":true}"#, PubAck(stream: "GORDON", sequence: 7, duplicate: true)),
        (#"{"stream": "S", "domain": "hub", "seq": 18446744073709551}"#, PubAck(stream: "S", sequence: 18446744073709551, duplicate: false)),
    ])
    func fastPathReadsTheCommonReplies(_ text: String, _ expected: PubAck) {
        #expect(PubAck(fastParsing: Array(text.utf8)) == expected)
    }

    @Test(arguments: [
        #"{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}"#,
        #"{"stream":"GORDON"}"#, #"{"seq":1}"#, #"{"stream":"A\"B","seq":1}"#, #"{"stream":"S","seq":1,"extra":2}"#,
        #"{"stream":"S","seq":x}"#, "", "{", #"{"stream":"S","seq":1}x"#,
    ])
    func anythingElseFallsBackToTheDecoder(_ text: String) {
        #expect(PubAck(fastParsing: Array(text.utf8)) == nil)
    }
}

/// A task that says when it has finished.
final class Handover: Sendable {
    final class Flag: Sendable {
        let value = Mutex(false)
    }

    private let flag: Flag
    let task: Task<[JetStreamMessage], any Error>

    init(_ body: @escaping @Sendable () async throws -> [JetStreamMessage]) {
        let flag = Flag()
        self.flag = flag
        task = Task {
            defer { flag.value.withLock { $0 = true } }
            return try await body()
        }
    }

    var isDone: Bool { flag.value.withLock { $0 } }
}
