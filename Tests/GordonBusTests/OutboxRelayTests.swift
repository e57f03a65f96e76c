import Foundation
@testable import GordonBus
import GordonDomain
import GordonKernel
import GordonMigrations
import GordonNATS
import GordonProtocol
import GordonTestDB
import PostgresNIO
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct OutboxRelayScheduleTests {
    @Test func fullBatchesRunBackToBackPartialOnesWait() {
        var schedule = OutboxRelaySchedule(batchSize: 100, pollInterval: .seconds(1))
        #expect(schedule.published(100) == .relayNow)
        #expect(schedule.published(99) == .wait(.seconds(1)))
        #expect(schedule.published(0) == .wait(.seconds(1)))
        #expect(schedule.standby() == .wait(.seconds(1)))
        // Marks pending after a partial batch: a short pause for more rows, not a poll.
        #expect(schedule.published(3, marksPending: true) == .settle(schedule.settleDelay))
        #expect(schedule.published(100, marksPending: true) == .relayNow)
    }

    @Test func failuresBackOffExponentiallyUpToTheCapAndResetOnSuccess() {
        var schedule = OutboxRelaySchedule(batchSize: 10, pollInterval: .seconds(1), initialBackoff: .milliseconds(100), maxBackoff: .seconds(1))
        #expect(schedule.failed() == .wait(.milliseconds(100)))
        #expect(schedule.failed() == .wait(.milliseconds(200)))
        #expect(schedule.failed() == .wait(.milliseconds(400)))
        #expect(schedule.failed() == .wait(.milliseconds(800)))
        #expect(schedule.failed() == .wait(.seconds(1)))
        #expect(schedule.failed() == .wait(.seconds(1)))
        #expect(schedule.consecutiveFailures == 6)
        _ = schedule.published(1)
        #expect(schedule.failed() == .wait(.milliseconds(100)))
    }
}

@Suite struct OutboxRelayTests {
    @Test func everyCommittedRowIsPublishedOnceInIdOrderAndMarkedSent() async throws {
        try await BusWorld.with { world in
            let ids = try await world.enqueue(1200)
            // A rolled-back transaction leaves no event behind.
            try await withConnection(try await world.database.connect(as: .executor)) { connection in
                try await connection.query("BEGIN", logger: testLogger)
                _ = try await Outbox.enqueue(try metricEvent(99_999), orderingKey: "x", on: connection, logger: testLogger)
                try await connection.query("ROLLBACK", logger: testLogger)
            }
            let relay = relay(world) { $0.batchSize = 100 }
            try await whileRelaying([relay]) { () async throws in
                #expect(try await eventually(timeout: .seconds(30)) { try await world.pendingCount() == 0 })
            }
            let messages = try await world.streamMessages(expected: ids.count)
            #expect(messages.map { $0.headers?[NATSHeaders.messageId] } == ids.map { String($0) })
            // What was published is byte for byte what was enqueued, and decodes.
            let decoded = try messages.map { try EventCodec().decode(MetricEvent.self, from: $0.payload.readableBytesView) }
            #expect(decoded.map(\.payload.value) == (0..<1200).map { ExactDecimal($0) })
            #expect(relay.statistics.published == 1200)
        }
    }

    @Test func aNotifyWakesTheRelayLongBeforeItsPollingInterval() async throws {
        try await BusWorld.with { world in
            let relay = relay(world) { $0.pollInterval = .seconds(600) }
            try await whileRelaying([relay]) { () async throws in
                // Let the relay reach its long wait, then enqueue: only the NOTIFY can wake it.
                #expect(try await eventually(timeout: .seconds(10)) { relay.statistics.published == 0 && world.client.isConnected })
                _ = try await world.enqueue(1)
                // Well inside the 600 s poll: only the NOTIFY can have woken the relay.
                #expect(try await eventually(timeout: .seconds(60)) { try await world.pendingCount() == 0 })
            }
        }
    }

    @Test func twoRelaysOfOneProducerNeitherDuplicateNorReorder() async throws {
        try await BusWorld.with { world in
            let first = relay(world) { $0.batchSize = 50 }
            let second = relay(world) { $0.batchSize = 50 }
            let ids = try await whileRelaying([first, second]) {
                let ids = try await world.enqueue(2000, perTransaction: 20)
                #expect(try await eventually(timeout: .seconds(30)) { try await world.pendingCount() == 0 })
                return ids
            }
            let messages = try await world.streamMessages(expected: ids.count)
            #expect(messages.map { $0.headers?[NATSHeaders.messageId] } == ids.map { String($0) })
            #expect(first.statistics.published + second.statistics.published == 2000)
        }
    }

    @Test func relaysOnlyItsOwnSubjectPrefixesAndProducers() async throws {
        try await BusWorld.with { world in
            let mine = try await world.enqueue(10, as: .risk, name: "mine")
            _ = try await world.enqueue(5, as: .risk, name: "theirs")
            _ = try await world.enqueue(7, as: .executor, name: "mine")  // another role's rows are invisible
            let scoped = relay(world, role: .risk) { $0.subjectPrefixes = ["gordon.market.metric.mine"] }
            // The backlog /metrics shows is the relay's own: its producer, its subjects.
            let before = try await scoped.backlog()
            #expect(before.pending == 10 && before.oldestSeconds > 0, "\(before)")
            try await whileRelaying([scoped]) { () async throws in
                #expect(try await eventually(timeout: .seconds(20)) { scoped.statistics.published == 10 })
            }
            let after = try await scoped.backlog()
            #expect(after.pending == 0 && after.oldestSeconds == 0, "\(after)")
            #expect(try await relay(world, role: .risk).backlog().pending == 5)
            #expect(try await world.pendingCount(as: .risk) == 5)
            #expect(try await world.pendingCount(as: .executor) == 7)
            let messages = try await world.streamMessages(expected: 10)
            #expect(messages.map { $0.headers?[NATSHeaders.messageId] } == mine.map { String($0) })
        }
    }

    /// The relay runs as its own process and is killed with SIGKILL mid-stream, then
    /// restarted: the stream still holds every row exactly once, in order.
    @Test func killedRelayProcessLosesAndDuplicatesNothing() async throws {
        try await BusWorld.with { world in
            let total = 3000
            let ids = try await world.enqueue(total, perTransaction: 500)
            let url = try await world.database.url(as: .executor)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let keyfile = directory + "/gordon-executor.key"
            try url.password!.withPlainText { "postgres_password = \($0)\n" }.write(toFile: keyfile, atomically: true, encoding: .utf8)
            chmod(keyfile, 0o400)
            let passwordless = url.with(username: url.username, password: nil)

            func startRelay() throws -> ChildProcess {
                try ChildProcess(TestEnvironment.builtExecutable("gordon-outbox-relay"),
                                 ["--database-url", passwordless.description, "--nats-url", world.server.url,
                                  "--keyfile", keyfile, "--batch-size", "25"])
            }

            let first = try startRelay()
            #expect(try await eventually(timeout: .seconds(30), pollEvery: .milliseconds(2)) { try await world.pendingCount() < total - 200 })
            first.signal(SIGKILL)
            await first.exited()
            #expect(first.termination == .signalled(SIGKILL))
            let leftAfterKill = try await world.pendingCount()
            #expect(leftAfterKill > 0)

            let second = try startRelay()
            #expect(try await eventually(timeout: .seconds(60)) { try await world.pendingCount() == 0 })
            second.signal(SIGTERM)  // graceful stop
            await second.exited()
            #expect(second.termination == .exited(0))

            let messages = try await world.streamMessages(expected: total)
            #expect(messages.count == total)
            #expect(messages.map { $0.headers?[NATSHeaders.messageId] } == ids.map { String($0) })
            #expect(try await world.jetStream.streamInfo(GordonStream.name).state.messages == UInt64(total))
        }
    }

    @Test func bootstrapIsIdempotentAndConverges() async throws {
        let server = try await TestNATSServer()
        let client = try await NATSClient.connect(try NATSClientOptions(urls: [server.url]))
        let js = JetStream(client: client)
        let created = try await GordonStream.ensure(js)
        let again = try await GordonStream.ensure(js)
        #expect(created.config == again.config)
        #expect(again.config.subjects == ["gordon.>"] && again.config.storage == "file")
        #expect(again.config.duplicateWindow == 600_000_000_000)
        let widened = try await GordonStream.ensure(js, GordonStream.configuration(duplicateWindow: .seconds(900)))
        #expect(widened.config.duplicateWindow == 900_000_000_000)
        await client.close()
    }
}

@Suite struct DoorbellTests {
    @Test func aTimedOutWaitDoesNotCutTheNextOneShort() async {
        let doorbell = Doorbell()
        await doorbell.wait(upTo: .milliseconds(20))
        let started = ContinuousClock.now
        await doorbell.wait(upTo: .milliseconds(300))
        #expect(ContinuousClock.now - started >= .milliseconds(280))
    }

    @Test func aTimeoutAnswersAsToldAndARingCarriesTheLowestId() async {
        let doorbell = Doorbell()
        #expect(await doorbell.wait(upTo: .milliseconds(10)) == .everything)  // the polling fallback sweeps
        #expect(await doorbell.wait(upTo: .milliseconds(10), timeoutStart: nil) == nil)  // a settle reads on
        doorbell.ring(.atOrBelow(9))
        doorbell.ring(.atOrBelow(4))
        #expect(await doorbell.wait(upTo: .seconds(300)) == .atOrBelow(4))
        doorbell.ring(.atOrBelow(4))
        doorbell.ring(.everything)
        #expect(doorbell.take() == .everything)
        #expect(doorbell.take() == nil)
    }

    @Test func aRingBeforeTheWaitIsNotLost() async {
        let doorbell = Doorbell()
        doorbell.ring()
        let started = ContinuousClock.now
        await doorbell.wait(upTo: .seconds(300))
        // Far below the 300 s timeout; generous because other tests share the CPU.
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}

extension DoorbellTests {
    @Test func cancellationEndsAWait() async {
        let doorbell = Doorbell()
        let started = ContinuousClock.now
        let waiter = Task { await doorbell.wait(upTo: .seconds(300)) }
        waiter.cancel()
        await waiter.value
        // Far below the 300 s timeout; generous because other tests share the CPU.
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}
