/// Polls `condition` until it holds or `timeout` passes; returns whether it held. Tests wait
/// on the condition they care about this way, never on a fixed sleep.
public func eventually(
    timeout: Duration = .seconds(30), pollEvery interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: interval)  // poll interval, bounded by the deadline above
    }
}
