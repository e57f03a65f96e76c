/// The one error type Gordon's libraries throw across module boundaries.
///
/// `message` is for a human and may change; `code` is for machines and never does.
/// `context` carries identifiers (file, symbol, order id), never secrets: it is logged.
public struct GordonError: Error, Sendable, CustomStringConvertible {
    public var kind: ErrorKind
    public var code: ErrorCode
    public var message: String
    public var context: [String: String]
    public var underlying: (any Error & Sendable)?

    public init(
        _ code: ErrorCode,
        _ message: String,
        kind: ErrorKind? = nil,
        context: [String: String] = [:],
        underlying: (any Error & Sendable)? = nil
    ) {
        self.kind = kind ?? code.defaultKind
        self.code = code
        self.message = message
        self.context = context
        self.underlying = underlying
    }

    public var isRetryable: Bool { kind.isRetryable }

    /// One line: `GORDON-DB-0003 sql failed: … [file=0002_x.sql line=4]`.
    public var description: String {
        var line = "\(code.rawValue) \(message)"
        if !context.isEmpty {
            let pairs = context.keys.sorted().map { "\($0)=\(context[$0]!)" }
            line += " [" + pairs.joined(separator: " ") + "]"
        }
        return line
    }
}
