import GordonKernel

/// Gordon's JSON rule: a value that decodes is a value that validates. Every domain type
/// decodes its raw fields and then runs its validating initializer through these helpers.
extension Decoder {
    /// Decodes a single string and validates it; a non-string or an invalid string is a
    /// `DecodingError.dataCorrupted` whose description is the `GordonError` line.
    func decodeValidatedString<T>(_ parse: (String) throws(GordonError) -> T) throws -> T {
        let container = try singleValueContainer()
        let text = try container.decode(String.self)
        do {
            return try parse(text)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    /// Runs a validating initializer after the fields were decoded, turning its
    /// `GordonError` into a `DecodingError` so invalid JSON never becomes a value.
    func validated<T>(_ make: () throws(GordonError) -> T) throws -> T {
        do {
            return try make()
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: error.description, underlyingError: error))
        }
    }
}
