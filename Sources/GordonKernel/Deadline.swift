import Synchronization

/// Runs `body`, but gives up after `timeout`: `onTimeout` runs (close the connection the body
/// is stuck on), the body's task is cancelled, and the call throws `timeoutError`. A database
/// connection can hang without failing (seen when PostgreSQL shuts down as a query is sent);
/// whoever waits on one must get an answer anyway. `body` runs unstructured, so a body that
/// ignores cancellation cannot hang the caller too.
public func withDeadline<T: Sendable>(
    _ timeout: Duration, timeoutError: @escaping @Sendable () -> any Error,
    onTimeout: @escaping @Sendable () async -> Void = {},
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    let work = Task {
        do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
    }
    let deadline = Task {
        guard (try? await Task.sleep(for: timeout)) != nil else { return }  // the deadline itself
        if race.finish(.failure(timeoutError())) {
            work.cancel()
            await onTimeout()
        }
    }
    let outcome = await race.value()
    deadline.cancel()
    return try outcome.get()
}

/// The first of several results; later ones are ignored.
public final class Race<Value: Sendable>: Sendable {
    private let state = Mutex<(result: Result<Value, any Error>?, waiter: CheckedContinuation<Result<Value, any Error>, Never>?)>((nil, nil))

    public init() {}

    /// Returns whether this result was the first.
    @discardableResult
    public func finish(_ result: Result<Value, any Error>) -> Bool {
        let (first, waiter): (Bool, CheckedContinuation<Result<Value, any Error>, Never>?) = state.withLock { state in
            guard state.result == nil else { return (false, nil) }
            state.result = result
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(returning: result)
        return first
    }

    public func value() async -> Result<Value, any Error> {
        await withCheckedContinuation { continuation in
            let ready: Result<Value, any Error>? = state.withLock { state in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
