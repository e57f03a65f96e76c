// gordon-nats-bench: throughput and latency of Gordon's own NATS client, in the manner of
// `nats bench`. `Benchmarks/compare` runs it beside `nats_py_bench.py` (same flags, same
// JSON line) against one throwaway nats-server.
//
// Modes:
//   core (default)  --pubs N publishers share --msgs messages on one subject, each ending
//                   with flush(); --subs N subscribers each count every message.
//   --js            JetStream publish with ack into a stream this run creates and deletes,
//                   pipelined with at most --window acks outstanding per publisher
//                   (--sync: one publish at a time, awaiting each ack).
//   --req           request/reply latency: one responder client, --msgs sequential requests.
//
// Clocks: ContinuousClock. Publishers are timed from the first publish until the last
// flush() returns (core) or the last PubAck arrives (js); subscribers from the same start
// until their last message.

import ArgumentParser
import GordonNATS
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

struct BenchError: Error, CustomStringConvertible {
    var description: String
}

/// What one subscriber has seen, shared with the watchdog that stops it when messages stop
/// coming (core NATS may drop them; the bench must not hang).
final class SubscriberProgress: Sendable {
    let received = Atomic<Int>(0)
    let finishedAt = Mutex<ContinuousClock.Instant?>(nil)
}

/// Fields of the one JSON line `--json` prints; the Python bench prints the same keys.
struct Report {
    var fields: [(String, String)] = []

    mutating func add(_ key: String, _ value: String) { fields.append((key, "\"\(value)\"")) }
    mutating func add(_ key: String, _ value: Int) { fields.append((key, String(value))) }
    mutating func add(_ key: String, _ value: Bool) { fields.append((key, String(value))) }
    mutating func add(_ key: String, _ value: Double) {
        fields.append((key, value.isFinite ? String(format3(value)) : "null"))
    }

    var json: String { "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}" }
}

func format3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func nanoseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
}

/// 1234567.8 -> "1,234,568"
func grouped(_ value: Double) -> String {
    guard value.isFinite else { return "-" }
    let digits = String(Int64(value.rounded()))
    var out = ""
    for (index, character) in digits.reversed().enumerated() {
        if index > 0, index % 3 == 0, character != "-" { out.append(",") }
        out.append(character)
    }
    return String(out.reversed())
}

/// 12.3456 -> "12.35"
func fixed2(_ value: Double) -> String {
    guard value.isFinite else { return "-" }
    let hundredths = Int64((value * 100).rounded())
    let fraction = abs(hundredths % 100)
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}

func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return String(generator.next() as UInt64, radix: 36)
}

/// `total` split over `parts` as evenly as possible (the first ones get the remainder).
func split(_ total: Int, into parts: Int) -> [Int] {
    (0..<parts).map { total / parts + ($0 < total % parts ? 1 : 0) }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-nats-bench",
        abstract: "Benchmark Gordon's NATS client (core publish/subscribe, JetStream publish, request/reply)."
    )

    @Option(help: "NATS server URL.") var url = "nats://127.0.0.1:4222"
    @Option(help: "Messages to publish in total (requests with --req).") var msgs = 1_000_000
    @Option(help: "Payload size in bytes.") var size = 128
    @Option(help: "Publishing connections.") var pubs = 1
    @Option(help: "Subscribing connections (core mode); each counts every message.") var subs = 0
    @Flag(help: "JetStream publish with ack into a stream created for the run.") var js = false
    @Option(help: "JetStream: acks outstanding per publisher.") var window = 1000
    @Option(help: "JetStream: when the window is full, wait for this many of the oldest acks before publishing again (1: a strict sliding window).") var ackBatch = 1
    @Flag(help: "JetStream: publish one at a time, awaiting each ack (ignores --window).") var sync = false
    @Flag(help: "JetStream diagnostic: skip JetStream.publishAsync; core publish with a reply subject under one inbox subscription, acks counted off that subscription (the ceiling of the core path).") var raw = false
    @Option(help: "JetStream stream storage: file or memory.") var storage = "file"
    @Flag(help: "Request/reply latency: one responder, --msgs sequential requests.") var req = false
    @Option(help: "Request/reply: requests sent first and not measured.") var warmup = 100
    @Option(help: "Subject prefix (a random token is appended).") var subject = "bench"
    @Option(help: "Seconds without a new message after which a subscriber is given up.") var idleTimeout = 5.0
    @Flag(help: "Print one JSON line of results instead of text.") var json = false

    func validate() throws {
        guard msgs > 0 else { throw ValidationError("--msgs must be positive") }
        guard size >= 0 else { throw ValidationError("--size must not be negative") }
        guard pubs > 0 else { throw ValidationError("--pubs must be positive") }
        guard subs >= 0 else { throw ValidationError("--subs must not be negative") }
        guard window > 0 else { throw ValidationError("--window must be positive") }
        guard (1...window).contains(ackBatch) else { throw ValidationError("--ack-batch must be in 1...--window") }
        guard !(js && req) else { throw ValidationError("--js and --req are separate modes") }
        guard !(js && subs > 0) else { throw ValidationError("--subs is for core mode only") }
        guard ["file", "memory"].contains(storage) else { throw ValidationError("--storage is file or memory") }
    }

    func execute() async throws {
        var report = Report()
        report.add("client", "gordon")
        report.add("mode", req ? "req" : js ? "js" : "core")
        report.add("msgs", msgs)
        report.add("size", size)
        if req {
            try await runRequestReply(into: &report)
        } else if js {
            try await runJetStream(into: &report)
        } else {
            try await runCore(into: &report)
        }
        if json { print(report.json) }
    }

    func connect(_ name: String) async throws -> NATSClient {
        try await NATSClient.connect(try NATSClientOptions(urls: [url], name: name))
    }

    // MARK: Core publish / subscribe

    func runCore(into report: inout Report) async throws {
        let subject = "\(self.subject).\(randomToken())"
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: size)
        let expected = msgs

        var subscriberClients: [NATSClient] = []
        var subscriptions: [NATSSubscription] = []
        for index in 0..<subs {
            let client = try await connect("bench-sub-\(index)")
            // Room for every message: the bench measures the client, not the drop policy.
            subscriptions.append(try await client.subscribe(to: subject, pendingLimit: max(expected, 65_536)))
            try await client.flush()
            subscriberClients.append(client)
        }
        var publisherClients: [NATSClient] = []
        for index in 0..<pubs { publisherClients.append(try await connect("bench-pub-\(index)")) }

        let progress = subscriptions.map { _ in SubscriberProgress() }
        let consumers = zip(subscriptions, progress).map { subscription, progress in
            Task {
                var count = 0
                for try await _ in subscription {
                    count += 1
                    progress.received.store(count, ordering: .relaxed)
                    if count == expected {
                        progress.finishedAt.withLock { $0 = .now }
                        break
                    }
                }
            }
        }

        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (client, count) in zip(publisherClients, split(msgs, into: pubs)) {
                group.addTask {
                    for _ in 0..<count { try await client.publish(payload, to: subject) }
                    try await client.flush()
                }
            }
            try await group.waitForAll()
        }
        let publishEnd = clock.now

        // Subscribers: wait until each has every message or has seen nothing new for a while.
        var lastChange = clock.now
        var lastTotal = -1
        var subscribersEnd = publishEnd
        if !consumers.isEmpty {
            while true {
                let total = progress.reduce(0) { $0 + $1.received.load(ordering: .relaxed) }
                if total != lastTotal { lastTotal = total; lastChange = clock.now }
                if progress.allSatisfy({ $0.finishedAt.withLock { $0 } != nil }) { break }
                if clock.now - lastChange > .seconds(idleTimeout) {
                    consumers.forEach { $0.cancel() }
                    break
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            subscribersEnd = progress.compactMap { $0.finishedAt.withLock { $0 } }.max() ?? lastChange
            if progress.contains(where: { $0.finishedAt.withLock { $0 } == nil }) { subscribersEnd = max(subscribersEnd, lastChange) }
        }
        for consumer in consumers { _ = await consumer.result }

        let publishSeconds = seconds(publishEnd - start)
        report.add("pubs", pubs)
        report.add("subs", subs)
        report.add("pub_seconds", publishSeconds)
        report.add("pub_msgs_per_sec", Double(msgs) / publishSeconds)
        report.add("pub_mb_per_sec", Double(msgs * size) / publishSeconds / 1e6)
        if !json {
            print("Gordon NATS core publish: \(msgs) msgs of \(size) B, \(pubs) pub(s), \(subs) sub(s)")
            print("  Pub stats: \(grouped(Double(msgs) / publishSeconds)) msgs/sec ~ \(fixed2(Double(msgs * size) / publishSeconds / 1e6)) MB/sec (\(fixed2(publishSeconds)) s)")
        }
        if subs > 0 {
            let received = progress.reduce(0) { $0 + $1.received.load(ordering: .relaxed) }
            let subscribeSeconds = seconds(subscribersEnd - start)
            report.add("sub_seconds", subscribeSeconds)
            report.add("sub_received", received)
            report.add("sub_expected", msgs * subs)
            report.add("sub_msgs_per_sec", Double(received) / subscribeSeconds)
            report.add("sub_mb_per_sec", Double(received * size) / subscribeSeconds / 1e6)
            if !json {
                print("  Sub stats: \(grouped(Double(received) / subscribeSeconds)) msgs/sec ~ \(fixed2(Double(received * size) / subscribeSeconds / 1e6)) MB/sec (\(fixed2(subscribeSeconds)) s, received \(received) of \(msgs * subs))")
            }
        }
        for client in publisherClients + subscriberClients { await client.close() }
    }

    // MARK: JetStream publish with ack

    func runJetStream(into report: inout Report) async throws {
        let token = randomToken()
        let subject = "\(self.subject).js.\(token)"
        let streamName = "BENCH_\(token)"
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: size)

        let admin = try await connect("bench-admin")
        let management = JetStream(client: admin)
        var config = StreamConfig(name: streamName, subjects: [subject])
        config.storage = storage
        _ = try await management.createStream(config)

        var publisherClients: [NATSClient] = []
        for index in 0..<pubs { publisherClients.append(try await connect("bench-js-pub-\(index)")) }

        let pendingChecks = NIOLockedValueBox<[EventLoopFuture<PubAck>]>([])
        let clock = ContinuousClock()
        let start = clock.now
        var outcome: Result<Void, any Error>
        do {
            let window = self.window
            let sync = self.sync
            let ackBatch = self.ackBatch
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (client, count) in zip(publisherClients, split(msgs, into: pubs)) {
                    group.addTask {
                        let jetStream = JetStream(client: client)
                        if sync {
                            for _ in 0..<count { _ = try await jetStream.publish(payload, to: subject) }
                            return
                        }
                        if raw {
                            try await Bench.rawPublish(client: client, payload: payload, subject: subject, count: count,
                                                       window: window, ackBatch: ackBatch)
                            return
                        }
                        if ackBatch == 1 {
                            // The client's own window (maxPendingAsync), as nats-py's
                            // publish_async_max_pending: publish, then wait for all acks.
                            let windowed = JetStream(client: client, maxPendingAsync: window)
                            var futures: [EventLoopFuture<PubAck>] = []
                            futures.reserveCapacity(count)
                            for _ in 0..<count { futures.append(try await windowed.publishAsync(payload, to: subject)) }
                            await windowed.publishAsyncComplete()
                            pendingChecks.withLockedValue { $0.append(contentsOf: futures) }
                            return
                        }
                        // A ring of pending acks, oldest at `oldest`. When the window is full,
                        // wait for the oldest `ackBatch` acks (acks come back in publish order).
                        let capacity = min(window, count)
                        var ring = [EventLoopFuture<PubAck>?](repeating: nil, count: capacity)
                        var oldest = 0
                        var outstanding = 0
                        for _ in 0..<count {
                            if outstanding == capacity {
                                for _ in 0..<min(ackBatch, outstanding) {
                                    _ = try await ring[oldest]!.get()
                                    ring[oldest] = nil
                                    oldest = (oldest + 1) % capacity
                                    outstanding -= 1
                                }
                            }
                            ring[(oldest + outstanding) % capacity] = try await jetStream.publishAsync(payload, to: subject)
                            outstanding += 1
                        }
                        while outstanding > 0 {
                            _ = try await ring[oldest]!.get()
                            oldest = (oldest + 1) % capacity
                            outstanding -= 1
                        }
                    }
                }
                try await group.waitForAll()
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let end = clock.now
        // Every ack must have succeeded: checked after the clock stopped (all are complete).
        for future in pendingChecks.withLockedValue({ $0 }) {
            do { _ = try await future.get() } catch { outcome = .failure(error); break }
        }
        let stored = (try? await management.streamInfo(streamName))?.state.messages
        try? await management.deleteStream(streamName)
        for client in publisherClients + [admin] { await client.close() }
        try outcome.get()

        let elapsed = seconds(end - start)
        report.add("pubs", pubs)
        report.add("window", sync ? 1 : window)
        report.add("ack_batch", sync ? 1 : ackBatch)
        report.add("sync", sync)
        report.add("method", sync ? "JetStream.publish" : raw ? "raw core publish + inbox" : "JetStream.publishAsync")
        report.add("storage", storage)
        report.add("pub_seconds", elapsed)
        report.add("pub_msgs_per_sec", Double(msgs) / elapsed)
        report.add("pub_mb_per_sec", Double(msgs * size) / elapsed / 1e6)
        report.add("stored", Int(stored ?? 0))
        if !json {
            print("Gordon NATS JetStream publish: \(msgs) msgs of \(size) B, \(pubs) pub(s), \(sync ? "sync (one at a time)" : raw ? "raw core publish + inbox, window \(window)" : "async, window \(window)\(ackBatch > 1 ? ", acks awaited \(ackBatch) at a time" : "")"), \(storage) storage")
            print("  Pub stats: \(grouped(Double(msgs) / elapsed)) msgs/sec ~ \(fixed2(Double(msgs * size) / elapsed / 1e6)) MB/sec (\(fixed2(elapsed)) s, stream holds \(stored.map(String.init) ?? "?"))")
        }
    }

    /// Publish-with-ack on the core API alone: what `publishAsync` could cost without a
    /// promise, a timer and two JSON decodes per message.
    static func rawPublish(client: NATSClient, payload: [UInt8], subject: String, count: Int,
                           window: Int, ackBatch: Int) async throws {
        let inbox = client.newInbox()
        let acks = try await client.subscribe(to: "\(inbox).*", pendingLimit: 2 * window + 1024)
        try await client.flush()
        var iterator = acks.makeAsyncIterator()
        var outstanding = 0
        func awaitAck() async throws {
            guard let ack = try await iterator.next() else { throw BenchError(description: "ack subscription ended") }
            if ack.payload.readableBytesView.firstRange(of: Array("\"error\"".utf8)) != nil {
                throw BenchError(description: "publish rejected: \(ack.string)")
            }
            outstanding -= 1
        }
        for index in 0..<count {
            if outstanding == window {
                for _ in 0..<min(ackBatch, outstanding) { try await awaitAck() }
            }
            try await client.publish(payload, to: subject, replyTo: "\(inbox).\(index)")
            outstanding += 1
        }
        while outstanding > 0 { try await awaitAck() }
        try await acks.unsubscribe()
    }

    // MARK: Request/reply

    func runRequestReply(into report: inout Report) async throws {
        let subject = "\(self.subject).req.\(randomToken())"
        let payload = [UInt8](repeating: UInt8(ascii: "a"), count: size)

        let responder = try await connect("bench-responder")
        let subscription = try await responder.subscribe(to: subject)
        try await responder.flush()
        let serving = Task {
            for try await message in subscription {
                guard let replyTo = message.replyTo else { continue }
                try await responder.publish(message.payload.readableBytesView, to: replyTo)
            }
        }

        let requester = try await connect("bench-requester")
        for _ in 0..<warmup { _ = try await requester.request(payload, to: subject, timeout: .seconds(5)) }

        let clock = ContinuousClock()
        var latencies: [Int64] = []
        latencies.reserveCapacity(msgs)
        let start = clock.now
        for _ in 0..<msgs {
            let sent = clock.now
            let reply = try await requester.request(payload, to: subject, timeout: .seconds(5))
            latencies.append(nanoseconds(clock.now - sent))
            guard reply.payload.readableBytes == size else { throw BenchError(description: "reply of \(reply.payload.readableBytes) bytes, expected \(size)") }
        }
        let elapsed = seconds(clock.now - start)
        serving.cancel()
        await requester.close()
        await responder.close()
        _ = await serving.result

        latencies.sort()
        func percentile(_ q: Double) -> Double {
            let rank = max(Int((q * Double(latencies.count)).rounded(.up)) - 1, 0)
            return Double(latencies[min(rank, latencies.count - 1)]) / 1000
        }
        let mean = Double(latencies.reduce(0, +)) / Double(latencies.count) / 1000
        report.add("req_per_sec", Double(msgs) / elapsed)
        report.add("p50_us", percentile(0.50))
        report.add("p90_us", percentile(0.90))
        report.add("p99_us", percentile(0.99))
        report.add("max_us", Double(latencies.last ?? 0) / 1000)
        report.add("mean_us", mean)
        if !json {
            print("Gordon NATS request/reply: \(msgs) sequential requests of \(size) B (after \(warmup) warm-up)")
            print("  \(grouped(Double(msgs) / elapsed)) req/sec; latency us: p50 \(fixed2(percentile(0.5))), p90 \(fixed2(percentile(0.9))), p99 \(fixed2(percentile(0.99))), max \(fixed2(Double(latencies.last ?? 0) / 1000)), mean \(fixed2(mean))")
        }
    }
}

// main.swift is top-level code, so no `@main`: parse, then run the async body. Help and
// usage errors leave through exit(withError:), as ParsableCommand.main() does.
do {
    try await Bench.parse().execute()
} catch {
    Bench.exit(withError: error)
}
