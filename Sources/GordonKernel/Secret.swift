/// A secret value that cannot be printed by accident.
///
/// `description`, `debugDescription` and string interpolation all give `<redacted>`, and it
/// is deliberately not `Codable`, so it cannot end up in a log line or an event. The one way
/// to the plain text is `withPlainText`, which names the intent at the call site.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) { self.value = value }

    public func withPlainText<R>(_ body: (String) throws -> R) rethrows -> R { try body(value) }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
