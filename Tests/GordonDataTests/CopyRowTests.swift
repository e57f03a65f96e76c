import GordonDomain
@testable import GordonData
import NIOCore
import Testing

@Suite("gordon-data: COPY rows")
struct CopyRowTests {
    @Test("decimals are written as ExactDecimal prints them", arguments: ["0", "7", "-1.5", "0.00012", "-0.5", "123.456", "100", "26888.92", "0.00000001",
                                                                       "18446744073709551616.5", "-99999999999999999999999999999999999999",
                                                                       "0.00000000000000000000000000000001"])
    func decimals(_ text: String) throws {
        let value = try ExactDecimal(parsing: text)
        var buffer = ByteBuffer()
        KlineStore.appendDecimal(value, to: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == value.description)
    }

    @Test("times are written as Timestamp prints them", arguments: [
        0, 1_704_067_200_000, 1_709_164_799_999, 951_782_400_123, -1, -86_400_001, 253_402_300_799_999, 1_577_836_800_059, 317_273_587_200_000,
    ] as [Int64])
    func times(_ milliseconds: Int64) {
        var buffer = ByteBuffer()
        KlineStore.appendTime(milliseconds, to: &buffer)
        #expect(buffer.readString(length: buffer.readableBytes) == Timestamp(milliseconds: milliseconds).description)
    }
}
