/// CRC-32 as zip uses it (ISO 3309 / ITU-T V.42: reflected polynomial 0xEDB88320, initial
/// and final XOR 0xFFFFFFFF), eight bytes per step with eight lookup tables.
public enum CRC32 {
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0) }
    }

    public static func checksum(_ bytes: UnsafeBufferPointer<UInt8>, continuing previous: UInt32 = 0) -> UInt32 {
        guard var pointer = bytes.baseAddress else { return previous }
        var remaining = bytes.count
        var crc = ~previous
        tables.withUnsafeBufferPointer { table in
            while remaining >= 8 {
                let word = UInt64(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self))
                let low = UInt32(truncatingIfNeeded: word) ^ crc
                let high = UInt32(truncatingIfNeeded: word >> 32)
                // One lookup per statement: as one expression, Swift 6.2's type checker gives up.
                var next: UInt32 = table[7 * 256 + Int(low & 0xFF)]
                next ^= table[6 * 256 + Int(low >> 8 & 0xFF)]
                next ^= table[5 * 256 + Int(low >> 16 & 0xFF)]
                next ^= table[4 * 256 + Int(low >> 24)]
                next ^= table[3 * 256 + Int(high & 0xFF)]
                next ^= table[2 * 256 + Int(high >> 8 & 0xFF)]
                next ^= table[1 * 256 + Int(high >> 16 & 0xFF)]
                next ^= table[Int(high >> 24)]
                crc = next
                pointer += 8
                remaining -= 8
            }
            while remaining > 0 {
                crc = table[Int((crc ^ UInt32(pointer.pointee)) & 0xFF)] ^ (crc >> 8)
                pointer += 1
                remaining -= 1
            }
        }
        return ~crc
    }

    /// `tables[k * 256 + b]`: the CRC of byte `b` followed by `k` zero bytes.
    private static let tables: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            table[byte] = crc
        }
        for byte in 0..<256 {
            for k in 1..<8 {
                let previous = table[(k - 1) * 256 + byte]
                table[k * 256 + byte] = table[Int(previous & 0xFF)] ^ (previous >> 8)
            }
        }
        return table
    }()
}
