/// What went wrong, in the terms a caller acts on: retry, fix the input, or stop.
public enum ErrorKind: String, Sendable, Hashable, Codable, CaseIterable {
    case invalidInput = "invalid_input"
    case notFound = "not_found"
    case conflict
    case unauthorized
    case unavailable
    case timeout
    case rateLimited = "rate_limited"
    case rejectedByExchange = "rejected_by_exchange"
    case `internal`

    /// Whether the same request may succeed if sent again later unchanged.
    ///
    /// A timeout is retryable only after the caller has found out what happened to the
    /// first attempt (an order whose ack was lost may have been placed): retryability
    /// says "may succeed later", never "safe to resend blindly".
    public var isRetryable: Bool {
        switch self {
        case .unavailable, .timeout, .rateLimited: true
        case .invalidInput, .notFound, .conflict, .unauthorized, .rejectedByExchange, .internal: false
        }
    }
}
