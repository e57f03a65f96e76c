/// The pause before the next attempt after `failures` failures in a row: `initial`, doubling
/// per failure, never more than `maximum`.
public func retryBackoff(afterFailures failures: Int, initial: Duration = .milliseconds(100),
                         maximum: Duration = .seconds(5)) -> Duration {
    min(initial * (1 << min(max(failures, 0), 20)), maximum)
}
