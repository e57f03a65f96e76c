import GordonDomain
@testable import GordonData
import NIOCore
import Testing

@Suite("gordon-data: COPY rows")
struct CopyRowTests {
    @Test("decimals are written as ExactDecimal prints them", arguments: ["0", "7", "-1.5", "0.00012", "-0.5", "123.456", "100", "26888.92", "0.00000001"])
    func decimals(_ text: String) throws {
        let value = try ExactDecimal(parsing: text)
        var buffer = ByteBuffer()
        KlineStore.appendDecimal(value, to: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == value.description)
    }
}
