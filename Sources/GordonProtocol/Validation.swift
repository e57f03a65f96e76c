import GordonDomain
import GordonKernel

extension Decoder {
    /// Decodes one string and parses it; a non-string, or a string the parser refuses, is a
    /// `DecodingError` at this decoder's path (the codec turns it into `malformedEvent`).
    func validatedString<T>(_ parse: (String) throws(GordonError) -> T) throws -> T {
        let text = try singleValueContainer().decode(String.self)
        return try validating { () throws(GordonError) in try parse(text) }
    }

    /// Runs a validating initializer after the fields were decoded, so JSON that breaks a
    /// payload's rules never becomes a value.
    func validating<T>(_ make: () throws(GordonError) -> T) throws -> T {
        do {
            return try make()
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: error.description, underlyingError: error))
        }
    }
}

/// The error every payload initializer throws when its fields break the payload's rules.
func invalidPayload(_ type: String, _ message: String, _ context: [String: String] = [:]) -> GordonError {
    GordonError(.invalidEventPayload, "\(type): \(message)", context: context.merging(["type": type]) { current, _ in current })
}

extension KeyedDecodingContainer {
    /// An integer field. swift-foundation reports a number that is not an integer of this
    /// width (`1.5`, `1e30`) with an internal error that surfaces as "not valid JSON" at the
    /// root; this rethrows it at the field's own path.
    func decodeInteger<T: FixedWidthInteger & Decodable>(_: T.Type, forKey key: Key) throws -> T {
        do {
            return try decode(T.self, forKey: key)
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an integer that fits \(T.self)")
        }
    }

    func decodeIntegerIfPresent<T: FixedWidthInteger & Decodable>(_: T.Type, forKey key: Key) throws -> T? {
        do {
            return try decodeIfPresent(T.self, forKey: key)
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not an integer that fits \(T.self)")
        }
    }

    /// Integer milliseconds since the epoch, UTC.
    func decodeTimestamp(forKey key: Key) throws -> Timestamp {
        Timestamp(milliseconds: try decodeInteger(Int64.self, forKey: key))
    }
}
