import GordonDomain
import GordonKernel
import Testing

/// Parses a decimal literal written in a test; a typo fails the test rather than trapping.
func dec(_ text: String) throws(GordonError) -> ExactDecimal { try ExactDecimal(parsing: text) }
func price(_ text: String) throws(GordonError) -> Price { try Price(parsing: text) }
func qty(_ text: String) throws(GordonError) -> Quantity { try Quantity(parsing: text) }

/// The `GordonError` code thrown by `body`, or nil if it did not throw.
func thrownCode<T>(_ body: () throws(GordonError) -> T) -> ErrorCode? {
    do {
        _ = try body()
        return nil
    } catch {
        return error.code
    }
}

/// The error thrown by `body`, or nil.
func thrownError<T>(_ body: () throws(GordonError) -> T) -> GordonError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A deterministic generator (SplitMix64) so property tests fail the same way every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
