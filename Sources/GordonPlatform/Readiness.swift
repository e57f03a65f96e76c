import GordonKernel
public import GordonLogging
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
    /// Failures are shown on `/readyz`: a probe's error must not carry a secret there either.
    private let redactor: SecretRedactor

    public init(timeout: Duration = .seconds(2), redactor: SecretRedactor = SecretRedactor()) {
        self.timeout = timeout
        self.redactor = redactor
    }

    public func add(_ check: Check) { checks.withLock { $0.append(check) } }

    public func add(_ name: String, _ probe: @escaping @Sendable () async throws -> Void) { add(Check(name, probe)) }

    /// Runs every check at once, each bounded by `timeout`.
    public func evaluate() async -> Report {
        let checks = checks.withLock { $0 }
        let timeout = timeout
        let redactor = redactor
        let failures = await withTaskGroup(of: (Int, String?).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask { (index, await Self.run(check, timeout: timeout).map(redactor.redact)) }
            }
            var failures = [String?](repeating: nil, count: checks.count)
            for await (index, failure) in group { failures[index] = failure }
            return failures
        }
        return Report(results: zip(checks, failures).map { Report.Result(name: $0.name, failure: $1) })
    }

    /// The probe runs unstructured under a deadline: one that ignores cancellation (a query
    /// on a hung connection) cannot hold `/readyz`, or the server's graceful stop, with it.
    private static func run(_ check: Check, timeout: Duration) async -> String? {
        do {
            try await withDeadline(timeout, timeoutError: { GordonError(.serviceUnavailable, "no answer within \(timeout)") },
                                   check.probe)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
