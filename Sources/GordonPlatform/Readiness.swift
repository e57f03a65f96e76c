import Synchronization

/// What `/readyz` asks: each dependency a service cannot work without (the database, NATS,
/// and whatever the service registers, such as its exchange stream), each answering within
/// a deadline or counted as not ready.
public final class Readiness: Sendable {
    public struct Check: Sendable {
        public let name: String
        public let probe: @Sendable () async throws -> Void

        public init(_ name: String, _ probe: @escaping @Sendable () async throws -> Void) {
            self.name = name
            self.probe = probe
        }
    }

    public struct Report: Sendable, Equatable {
        /// Each check's name and nil when it passed, or why it failed; in registration order.
        public let results: [Result]
        public var isReady: Bool { results.allSatisfy { $0.failure == nil } }

        public struct Result: Sendable, Equatable {
            public let name: String
            public let failure: String?
        }
    }

    private let checks = Mutex<[Check]>([])
    public let timeout: Duration

    public init(timeout: Duration = .seconds(2)) { self.timeout = timeout }

    public func add(_ check: Check) { checks.withLock { $0.append(check) } }

    public func add(_ name: String, _ probe: @escaping @Sendable () async throws -> Void) { add(Check(name, probe)) }

    /// Runs every check at once, each bounded by `timeout`.
    public func evaluate() async -> Report {
        let checks = checks.withLock { $0 }
        let timeout = timeout
        let failures = await withTaskGroup(of: (Int, String?).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask { (index, await Self.run(check, timeout: timeout)) }
            }
            var failures = [String?](repeating: nil, count: checks.count)
            for await (index, failure) in group { failures[index] = failure }
            return failures
        }
        return Report(results: zip(checks, failures).map { Report.Result(name: $0.name, failure: $1) })
    }

    private static func run(_ check: Check, timeout: Duration) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    try await check.probe()
                    return nil
                } catch {
                    return "\(error)"
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : "no answer within \(timeout)"
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
