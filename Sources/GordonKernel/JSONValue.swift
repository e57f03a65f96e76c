/// Any JSON document, with the kind of every value kept (a string `"10"` is not the number
/// `10`): for printing whatever an API answered, and for comparing documents by shape.
public enum JSONValue: Decodable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// An object's field; nil for a missing key or a value that is no object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields[key]
    }

    /// An array's elements; empty for any other value.
    public var array: [JSONValue] {
        guard case .array(let items) = self else { return [] }
        return items
    }

    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Compact JSON, object keys sorted.
    public var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        case .string(let value):
            var text = ""
            JSONStringLiteral.append(value, to: &text)
            return text
        case .array(let values): return "[" + values.map(\.description).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.keys.sorted().map { key in
                var text = ""
                JSONStringLiteral.append(key, to: &text)
                return text + ":" + fields[key]!.description
            }.joined(separator: ",") + "}"
        }
    }
}
