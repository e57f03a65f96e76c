import GordonKernel
import GordonNATS
import GordonTestDB
import NIOCore
import Testing

@Suite struct InteropTests {
    @Test func publishSubscribeInOrder() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject()
        let subscription = try await client.subscribe(to: subject)
        try await client.flush()
        for i in 0..<500 { try await client.publish("m\(i)", to: subject) }
        let messages = try await collect(subscription, count: 500)
        #expect(messages.map(\.string) == (0..<500).map { "m\($0)" })
        #expect(client.serverInfo?.jetStream == true)
        await client.close()
    }

    @Test func headersTravelBothWays() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject()
        let subscription = try await client.subscribe(to: subject)
        try await client.flush()
        var headers = NATSHeaders()
        headers["Nats-Msg-Id"] = "abc"
        headers.append("X-Multi", "1")
        headers.append("X-Multi", "2")
        try await client.publish("body", to: subject, headers: headers)
        let message = try #require(try await collect(subscription, count: 1).first)
        #expect(message.headers?["nats-msg-id"] == "abc")
        #expect(message.headers?.values("X-Multi") == ["1", "2"])
        #expect(message.string == "body")
        await client.close()
    }

    @Test func wildcardsMatchAsNATSDefines() async throws {
        let client = try await connectShared()
        let root = uniqueSubject()
        let star = try await client.subscribe(to: "\(root).*.x")
        let full = try await client.subscribe(to: "\(root).>")
        try await client.flush()
        try await client.publish("1", to: "\(root).a.x")
        try await client.publish("2", to: "\(root).a.b.x")
        try await client.publish("3", to: "\(root).b.x")
        #expect(try await collect(star, count: 2).map(\.string) == ["1", "3"])
        #expect(try await collect(full, count: 3).map(\.string) == ["1", "2", "3"])
        await client.close()
    }

    @Test func requestReplyAndNoResponders() async throws {
        let server = try await connectShared(name: "responder")
        let client = try await connectShared(name: "requester")
        let subject = uniqueSubject("svc")
        let requests = try await server.subscribe(to: subject)
        try await server.flush()
        let responder = Task {
            for try await request in requests {
                try await server.publish("echo:" + request.string, to: request.replyTo!)
            }
        }
        let reply = try await client.request(Array("ping".utf8), to: subject, timeout: .seconds(5))
        #expect(reply.string == "echo:ping")
        // Many in flight at once, each gets its own answer.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask {
                    let answer = try await client.request(Array("\(i)".utf8), to: subject)
                    #expect(answer.string == "echo:\(i)")
                }
            }
            try await group.waitForAll()
        }
        let error = await #expect(throws: GordonError.self) {
            _ = try await client.request(Array("x".utf8), to: uniqueSubject("nobody"), timeout: .seconds(5))
        }
        #expect(error?.code == .natsNoResponders)
        responder.cancel()
        await server.close()
        await client.close()
    }

    @Test func requestTimesOutWhenTheResponderIsSilent() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject("silent")
        let silent = try await client.subscribe(to: subject)  // listens, never answers
        try await client.flush()
        let error = await #expect(throws: GordonError.self) {
            _ = try await client.request(Array("x".utf8), to: subject, timeout: .milliseconds(200))
        }
        #expect(error?.code == .natsTimeout)
        _ = silent
        await client.close()
    }

    @Test func queueGroupDeliversEachMessageToOneMember() async throws {
        let publisher = try await connectShared()
        let subject = uniqueSubject("work")
        let a = try await connectShared(name: "a")
        let b = try await connectShared(name: "b")
        let subA = try await a.subscribe(to: subject, queue: "workers")
        let subB = try await b.subscribe(to: subject, queue: "workers")
        try await a.flush()
        try await b.flush()
        let total = 400
        for i in 0..<total { try await publisher.publish("\(i)", to: subject) }
        try await publisher.flush()
        // Both members drain until the union holds every message once.
        let seen = SeenSet()
        let readers = [subA, subB].map { subscription in
            Task {
                for try await message in subscription { await seen.add(message.string) }
            }
        }
        #expect(try await eventually(timeout: .deadline) { await seen.count == total })
        #expect(await seen.duplicates == 0)
        #expect(await seen.values == Set((0..<total).map(String.init)))
        readers.forEach { $0.cancel() }
        for client in [publisher, a, b] { await client.close() }
    }

    @Test func unsubscribeAfterMaxEndsTheSequence() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject()
        let subscription = try await client.subscribe(to: subject)
        try await subscription.unsubscribe(after: 3)
        try await client.flush()
        for i in 0..<10 { try await client.publish("\(i)", to: subject) }
        var received: [String] = []
        for try await message in subscription { received.append(message.string) }  // ends by itself
        #expect(received == ["0", "1", "2"])
        await client.close()
    }

    @Test func drainDeliversWhatWasBufferedThenCloses() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject()
        let subscription = try await client.subscribe(to: subject)
        try await client.flush()
        for i in 0..<100 { try await client.publish("\(i)", to: subject) }
        try await client.flush()
        try await client.drain()
        var received = 0
        for try await _ in subscription { received += 1 }
        #expect(received == 100)
        #expect(!client.isConnected)
        let error = await #expect(throws: GordonError.self) { try await client.publish("late", to: subject) }
        #expect(error?.code == .natsConnectionClosed)
    }

    @Test func slowConsumerDropsPastThePendingLimitAndCounts() async throws {
        let client = try await connectShared()
        let subject = uniqueSubject()
        let subscription = try await client.subscribe(to: subject, pendingLimit: 10)
        try await client.flush()
        for i in 0..<100 { try await client.publish("\(i)", to: subject) }
        try await client.flush()
        #expect(try await eventually(timeout: .deadline) { subscription.droppedMessages == 90 })
        // The oldest ten are kept, in order.
        #expect(try await collect(subscription, count: 10).map(\.string) == (0..<10).map(String.init))
        await client.close()
    }

    @Test func payloadAboveMaxPayloadIsRefusedLocally() async throws {
        let client = try await connectShared()
        let maxPayload = try #require(client.serverInfo?.maxPayload)
        let error = await #expect(throws: GordonError.self) {
            try await client.publish([UInt8](repeating: 0, count: maxPayload + 1), to: uniqueSubject())
        }
        #expect(error?.code == .natsPayloadTooLarge)
        #expect(client.isConnected)
        await client.close()
    }

    @Test func wrongCredentialsAreAnAuthorizationError() async throws {
        let server = try await TestNATSServer { port, store in
            """
            listen: 127.0.0.1:\(port)
            jetstream { store_dir: "\(store)" }
            authorization { user: alice, password: right, timeout: 10 }
            """
        }
        let error = await #expect(throws: GordonError.self) {
            _ = try await NATSClient.connect(NATSClientOptions(servers: [NATSServerAddress(host: "127.0.0.1", port: server.port)],
                                                               auth: .userPassword(user: "alice", password: Secret("wrong"))))
        }
        #expect(error?.code == .natsAuthorizationFailed)
        #expect(error.map { "\($0)" }?.contains("wrong") == false)
        let client = try await NATSClient.connect(NATSClientOptions(servers: [NATSServerAddress(host: "127.0.0.1", port: server.port)],
                                                                    auth: .userPassword(user: "alice", password: Secret("right"))))
        #expect(client.isConnected)
        await client.close()
    }

    @Test func tokenAuthentication() async throws {
        let server = try await TestNATSServer { port, store in
            "listen: 127.0.0.1:\(port)\njetstream { store_dir: \"\(store)\" }\nauthorization { token: t0ken, timeout: 10 }\n"
        }
        let address = NATSServerAddress(host: "127.0.0.1", port: server.port)
        await #expect(throws: GordonError.self) { _ = try await NATSClient.connect(NATSClientOptions(servers: [address])) }
        let client = try await NATSClient.connect(NATSClientOptions(servers: [address], auth: .token(Secret("t0ken"))))
        #expect(client.isConnected)
        await client.close()
    }
}

actor SeenSet {
    var values: Set<String> = []
    var duplicates = 0
    var count: Int { values.count }
    func add(_ value: String) { if !values.insert(value).inserted { duplicates += 1 } }
}
