public import Logging
import Synchronization

/// The secrets a process holds, so that no log line can carry one even by mistake (a value
/// interpolated into an error message, a URL with its password). `Secret` already prints as
/// `<redacted>`; this is the second guard, applied to every rendered line.
public final class SecretRedactor: Sendable {
    public static let replacement = "<redacted>"
    private let secrets = Mutex<[String]>([])

    public init() {}

    /// Values shorter than four characters are not registered: replacing them would mangle
    /// ordinary words, and no real password or key is that short.
    public func register(_ values: some Sequence<String>) {
        let usable = values.filter { $0.utf8.count >= 4 }
        // Longest first, so a secret that contains another is replaced whole.
        secrets.withLock { $0 = ($0 + usable).sorted { $0.utf8.count > $1.utf8.count } }
    }

    public func redact(_ text: String) -> String {
        let current = secrets.withLock { $0 }
        guard !current.isEmpty else { return text }
        var result = text
        for secret in current where result.contains(secret) {
            result = result.replacing(secret, with: Self.replacement)
        }
        return result
    }

    public func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        guard secrets.withLock({ !$0.isEmpty }) else { return metadata }
        return metadata.mapValues(redact)
    }

    private func redact(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let text): .string(redact(text))
        case .stringConvertible(let convertible): .string(redact(convertible.description))
        case .dictionary(let dictionary): .dictionary(redact(dictionary))
        case .array(let values): .array(values.map(redact))
        }
    }
}
