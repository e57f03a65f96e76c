import GordonKernel
import Testing
@testable import GordonKlineFiles

@Suite("Inflate and ZipArchive")
struct InflateTests {
    let small = fixtureText(rows: 20, seed: 1)
    let medium = fixtureText(rows: 600, seed: 2)
    let large = fixtureText(rows: 3000, seed: 3)

    @Test func storedBlocks() throws {
        let stream = base64(InflateFixtures.stored)
        #expect(stream[0] >> 1 & 3 == 0)
        #expect(try Inflate.decompress(stream) == small)
        #expect(try Inflate.decompress(stream, expectedSize: small.count) == small)
    }

    @Test func fixedHuffman() throws {
        let stream = base64(InflateFixtures.fixed)
        #expect(stream[0] >> 1 & 3 == 1)
        #expect(try Inflate.decompress(stream) == medium)
    }

    @Test func dynamicHuffman() throws {
        let tiny = base64(InflateFixtures.dynamicSmall)
        #expect(tiny[0] >> 1 & 3 == 2)
        #expect(try Inflate.decompress(tiny) == small)
        let stream = base64(InflateFixtures.dynamic)
        #expect(try Inflate.decompress(stream, expectedSize: large.count) == large)
    }

    @Test func storedFixedAndDynamicInOneStream() throws {
        #expect(try Inflate.decompress(base64(InflateFixtures.mixed)) == small + medium + large)
    }

    @Test func sizeChecks() {
        let stream = base64(InflateFixtures.fixed)
        let short = caught { () throws(GordonError) in try Inflate.decompress(stream, expectedSize: medium.count - 1) }
        #expect(short?.code == .invalidMarketData)
        let long = caught { () throws(GordonError) in try Inflate.decompress(stream, expectedSize: medium.count + 1) }
        #expect(long?.message.contains("header says") == true)
        let capped = caught { () throws(GordonError) in try Inflate.decompress(stream, limit: 1000) }
        #expect(capped?.message.contains("exceeds 1000 bytes") == true)
    }

    @Test func malformedStreams() {
        func failure(_ bytes: [UInt8]) -> String? {
            caught { () throws(GordonError) in try Inflate.decompress(bytes) }?.message
        }
        #expect(failure([])?.contains("ends early") == true)
        #expect(failure([0x07])?.contains("reserved block type") == true)  // final, type 3
        #expect(failure([0x01, 0x05, 0x00, 0x00, 0x00])?.contains("length check") == true)
        #expect(failure([0x01, 0x05, 0x00, 0xFA, 0xFF, 0x41])?.contains("ends early") == true)
        // Fixed block: literal 'a' (0x91 reversed), then length 3 at distance 2 (only 1 byte out).
        // Bits: 1 (final), 01 (fixed), 10010001 ('a'), 0000001 (257), 00001 (distance code 1 = 2).
        var bits: [Int] = [1, 1, 0]
        bits += [1, 0, 0, 1, 0, 0, 0, 1]
        bits += [0, 0, 0, 0, 0, 0, 1]
        bits += [0, 0, 0, 0, 1]
        bits += [0, 0, 0, 0, 0, 0, 0]  // end of block
        var packed = [UInt8](repeating: 0, count: (bits.count + 7) / 8)
        for (index, bit) in bits.enumerated() where bit == 1 { packed[index / 8] |= 1 << (index % 8) }
        #expect(failure(packed)?.contains("before the start") == true)
    }

    /// Every prefix of a valid stream fails cleanly; so does every single-byte corruption of
    /// a small one (it may decode to other bytes, but must never trap or hang).
    @Test func truncationsAndCorruptionsNeverCrash() {
        for stream in [base64(InflateFixtures.dynamicSmall), base64(InflateFixtures.stored)] {
            for length in 0..<stream.count {
                let error = caught { () throws(GordonError) in try Inflate.decompress(Array(stream.prefix(length))) }
                #expect(error?.code == .invalidMarketData, "prefix \(length)")
            }
            for position in 0..<stream.count {
                for flip: UInt8 in [0x01, 0x10, 0x80, 0xFF] {
                    var corrupt = stream
                    corrupt[position] ^= flip
                    _ = caught { () throws(GordonError) in try Inflate.decompress(corrupt, limit: 1 << 20) }
                }
            }
        }
        let stream = base64(InflateFixtures.dynamic)
        for length in stride(from: 0, to: stream.count, by: 211) {
            let error = caught { () throws(GordonError) in try Inflate.decompress(Array(stream.prefix(length))) }
            #expect(error != nil, "prefix \(length)")
        }
        var random: UInt64 = 12345
        for _ in 0..<300 {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var corrupt = stream
            corrupt[Int(random >> 33) % corrupt.count] ^= UInt8(truncatingIfNeeded: random >> 8) | 1
            _ = caught { () throws(GordonError) in try Inflate.decompress(corrupt, expectedSize: large.count) }
        }
    }

    @Test func zipEntries() throws {
        let archive = try ZipArchive(base64(InflateFixtures.zip), name: "fixture.zip")
        #expect(archive.entries.map(\.name) == ["data/", "BTCUSDT-1m-2024-01.csv", "notes.txt"])
        #expect(archive.entries.map(\.method) == [0, 8, 0])
        #expect(archive.entries[0].isDirectory)
        #expect(try archive.entry(named: "BTCUSDT-1m-2024-01.csv")?.contents() == medium)
        #expect(try archive.entry(named: "notes.txt")?.contents() == Array("stored entry\n".utf8))
        #expect(try archive.entries[0].contents() == [])
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func zipCorruptionIsReported() throws {
        let bytes = base64(InflateFixtures.zip)
        // Flip a byte of the stored entry's data: the CRC catches it.
        let notes = try #require(try ZipArchive(bytes).entry(named: "notes.txt"))
        var corrupt = bytes
        corrupt[notes.localHeaderOffset + 30 + "notes.txt".utf8.count] ^= 0x20
        let crc = caught { () throws(GordonError) in try ZipArchive(corrupt, name: "x.zip").entry(named: "notes.txt")!.contents() }
        #expect(crc?.message.contains("CRC-32 mismatch") == true)
        #expect(crc?.message.hasPrefix("x.zip:notes.txt") == true)

        let notZip = caught { () throws(GordonError) in try ZipArchive(Array("hello, world".utf8), name: "a.zip") }
        #expect(notZip?.message.contains("too short") == true)
        let noEnd = caught { () throws(GordonError) in try ZipArchive([UInt8](repeating: 7, count: 100), name: "a.zip") }
        #expect(noEnd?.message.contains("no end-of-central-directory") == true)

        // ZIP64 markers are refused by name.
        var zip64 = bytes
        let end = zip64.count - 22
        zip64[end + 8] = 0xFF; zip64[end + 9] = 0xFF; zip64[end + 10] = 0xFF; zip64[end + 11] = 0xFF
        let refusal = caught { () throws(GordonError) in try ZipArchive(zip64, name: "big.zip") }
        #expect(refusal?.message.contains("ZIP64") == true)

        // An unknown method.
        var method = bytes
        let directory = Int(bytes[end + 16]) | Int(bytes[end + 17]) << 8 | Int(bytes[end + 18]) << 16
        method[directory + 10] = 12  // bzip2, in the first entry
        let unsupported = caught { () throws(GordonError) in try ZipArchive(method, name: "m.zip").entries[0].contents() }
        #expect(unsupported?.message.contains("method 12") == true)

        // Every truncation and many corruptions of the archive fail cleanly or decode.
        for length in 0..<bytes.count {
            let truncated = Array(bytes.prefix(length))
            let error = caught { () throws(GordonError) in
                for entry in try ZipArchive(truncated).entries { _ = try entry.contents() }
            }
            #expect(error?.code == .invalidMarketData, "prefix \(length)")
        }
        for position in stride(from: 0, to: bytes.count, by: 3) {
            var corrupt = bytes
            corrupt[position] ^= 0x5A
            _ = caught { () throws(GordonError) in
                for entry in try ZipArchive(corrupt).entries { _ = try entry.contents() }
            }
        }
    }
}
