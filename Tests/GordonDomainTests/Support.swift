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

