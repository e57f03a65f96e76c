import GordonKernel

/// `withDeadline` for the relay's and consumers' batches: a batch stuck on a hung database
/// connection fails (and the connection is closed) instead of stalling the loop.
func withWatchdog<T: Sendable>(
    _ timeout: Duration, doing what: String,
    onTimeout: @escaping @Sendable () async -> Void,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withDeadline(timeout, timeoutError: { GordonError(.outboxRelayFailed, "\(what) did not finish within \(timeout)") },
                           onTimeout: onTimeout, body)
}
