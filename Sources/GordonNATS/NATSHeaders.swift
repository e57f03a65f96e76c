public import GordonKernel

/// NATS message headers (`NATS/1.0` block of HPUB/HMSG), with the optional inline status
/// the server uses for no-responders (503), JetStream heartbeats and flow control (100),
/// and pull-request outcomes (404, 408, 409).
///
/// Names keep their case and order; lookup is case-insensitive, as in HTTP, because the
/// server and clients in the wild disagree on capitalisation.
public struct NATSHeaders: Sendable, Hashable, Sequence {
    public private(set) var fields: [(name: String, value: String)]
    public var status: Int?
    public var statusDescription: String?

    public static let messageId = "Nats-Msg-Id"
    public static let expectedStream = "Nats-Expected-Stream"
    public static let expectedLastSequence = "Nats-Expected-Last-Sequence"

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public var isEmpty: Bool { fields.isEmpty && status == nil }

    public subscript(name: String) -> String? {
        get { fields.first { $0.name.lowercased() == name.lowercased() }?.value }
        set {
            fields.removeAll { $0.name.lowercased() == name.lowercased() }
            if let newValue { fields.append((name: name, value: newValue)) }
        }
    }

    /// Every value of `name`, in order (a header may repeat).
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    public mutating func append(_ name: String, _ value: String) { fields.append((name: name, value: value)) }

    public func makeIterator() -> some IteratorProtocol<(name: String, value: String)> { fields.makeIterator() }

    public static func == (lhs: NATSHeaders, rhs: NATSHeaders) -> Bool {
        lhs.status == rhs.status && lhs.statusDescription == rhs.statusDescription
            && lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(status)
        for field in fields { hasher.combine(field.name); hasher.combine(field.value) }
    }

    /// The wire form, `NATS/1.0\r\n` … `\r\n\r\n`. Names and values with CR, LF or a colon
    /// in a name would corrupt the frame, so they are refused.
    public func encoded() throws(GordonError) -> [UInt8] {
        var text = "NATS/1.0"
        if let status {
            text += " \(status)"
            if let statusDescription { text += " \(statusDescription)" }
        }
        text += "\r\n"
        for field in fields {
            guard NATSHeaders.isValidName(field.name), !field.value.utf8.contains(where: { $0 == 13 || $0 == 10 }) else {
                throw GordonError(.natsInvalidSubject, "invalid header field", context: ["header": String(field.name.prefix(64))])
            }
            text += "\(field.name): \(field.value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }
    }

    /// Parses a header block as sent in HMSG. Throws `natsProtocolViolation` on anything
    /// that is not `NATS/1.0[ status[ description]]` followed by `name: value` lines.
    public init(parsing bytes: some Collection<UInt8>) throws(GordonError) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard let first = lines.first, first.hasPrefix("NATS/1.0") else {
            throw GordonError(.natsProtocolViolation, "header block does not start with NATS/1.0")
        }
        lines.removeFirst()
        self.init()
        let statusPart = first.dropFirst("NATS/1.0".count).drop { $0 == " " }
        if !statusPart.isEmpty {
            let code = statusPart.prefix { $0 != " " }
            guard code.count == 3, let value = Int(code) else {
                throw GordonError(.natsProtocolViolation, "header status is not a 3-digit code")
            }
            status = value
            let description = statusPart.dropFirst(3).drop { $0 == " " }
            statusDescription = description.isEmpty ? nil : String(description)
        }
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw GordonError(.natsProtocolViolation, "header line has no colon")
            }
            let name = String(line[..<colon])
            guard NATSHeaders.isValidName(name) else {
                throw GordonError(.natsProtocolViolation, "header name is invalid")
            }
            fields.append((name: name, value: String(line[line.index(after: colon)...].drop { $0 == " " })))
        }
    }
}
