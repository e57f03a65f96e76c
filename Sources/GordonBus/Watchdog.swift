import GordonKernel
import NIOConcurrencyHelpers

/// Runs `body`, but gives up after `timeout`: then `onTimeout` runs (close the connection the
/// body is stuck on) and the call throws. A database connection can hang without failing
/// (seen when PostgreSQL shuts down as a query is sent); a relay or consumer stuck on one
/// must fail and reconnect instead. `body` runs unstructured, so waiting for a hung body
/// cannot hang the caller too.
func withWatchdog<T: Sendable>(
    _ timeout: Duration, doing what: String,
    onTimeout: @escaping @Sendable () async -> Void,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    let work = Task {
        do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
    }
    let watchdog = Task {
        guard (try? await Task.sleep(for: timeout)) != nil else { return }  // the watchdog's deadline
        if race.finish(.failure(GordonError(.outboxRelayFailed, "\(what) did not finish within \(timeout)"))) {
            work.cancel()
            await onTimeout()
        }
    }
    let outcome = await race.value()
    watchdog.cancel()
    return try outcome.get()
}

/// The first of several results; later ones are ignored.
final class Race<Value: Sendable>: Sendable {
    private let state = NIOLockedValueBox<(result: Result<Value, any Error>?, waiter: CheckedContinuation<Result<Value, any Error>, Never>?)>((nil, nil))

    /// Returns whether this result was the first.
    @discardableResult
    func finish(_ result: Result<Value, any Error>) -> Bool {
        let (first, waiter): (Bool, CheckedContinuation<Result<Value, any Error>, Never>?) = state.withLockedValue { state in
            guard state.result == nil else { return (false, nil) }
            state.result = result
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(returning: result)
        return first
    }

    func value() async -> Result<Value, any Error> {
        await withCheckedContinuation { continuation in
            let ready: Result<Value, any Error>? = state.withLockedValue { state in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

