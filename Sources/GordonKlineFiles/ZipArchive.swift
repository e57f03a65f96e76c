public import GordonKernel

/// A zip archive read from memory (PKWARE APPNOTE): the end-of-central-directory record,
/// the central directory, and each entry's local header; entries stored (method 0) or
/// deflated (method 8), checked against their CRC-32.
///
/// Deliberately small: one disk, no ZIP64, no encryption. Those, and every malformed or
/// truncated structure, are a `GordonError` (`invalidMarketData`) naming the archive, never
/// a trap. The central directory is the authority for sizes and CRCs (local headers may
/// defer them to a data descriptor).
public struct ZipArchive: Sendable {
    public struct Entry: Sendable {
        public let name: String
        /// 0 = stored, 8 = deflate.
        public let method: Int
        public let compressedSize: Int
        public let uncompressedSize: Int
        public let crc32: UInt32
        /// Offset of the entry's local file header in the archive.
        public let localHeaderOffset: Int
        public var isDirectory: Bool { name.hasSuffix("/") }

        fileprivate let archive: [UInt8]
        fileprivate let archiveName: String

        /// The entry's bytes, inflated and CRC-checked.
        public func contents() throws(GordonError) -> [UInt8] {
            try ZipArchive.extract(self)
        }
    }

    /// The archive's name in error messages, e.g. `BTCUSDT-1m-2024-01.zip`.
    public let name: String
    /// In central-directory order.
    public let entries: [Entry]

    public init(_ bytes: [UInt8], name: String = "archive.zip") throws(GordonError) {
        self.name = name
        self.entries = try Self.readDirectory(bytes, name: name)
    }

    public func entry(named entryName: String) -> Entry? { entries.first { $0.name == entryName } }

    // MARK: Structure

    private static func failure(_ name: String, _ reason: String) -> GordonError {
        GordonError(.invalidMarketData, "\(name): not a readable zip archive: \(reason)", context: ["file": name])
    }

    private static func u16(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
    }

    private static func u32(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
    }

    private static let endOfDirectorySignature = 0x0605_4B50
    private static let zip64LocatorSignature = 0x0706_4B50
    private static let directorySignature = 0x0201_4B50
    private static let localSignature = 0x0403_4B50

    private static func readDirectory(_ bytes: [UInt8], name: String) throws(GordonError) -> [Entry] {
        // The end record is 22 bytes plus a comment of at most 65535; search backwards.
        guard bytes.count >= 22 else { throw failure(name, "too short (\(bytes.count) bytes) for an end-of-central-directory record") }
        var end = -1
        var candidate = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        while candidate >= lowest {
            if bytes[candidate] == 0x50, u32(bytes, candidate) == endOfDirectorySignature,
               candidate + 22 + u16(bytes, candidate + 20) == bytes.count {
                end = candidate
                break
            }
            candidate -= 1
        }
        guard end >= 0 else { throw failure(name, "no end-of-central-directory record") }
        if end >= 20, u32(bytes, end - 20) == zip64LocatorSignature {
            throw failure(name, "ZIP64 archives are not supported")
        }
        let disk = u16(bytes, end + 4), directoryDisk = u16(bytes, end + 6)
        let entriesOnDisk = u16(bytes, end + 8), entryCount = u16(bytes, end + 10)
        let directorySize = u32(bytes, end + 12), directoryOffset = u32(bytes, end + 16)
        if entryCount == 0xFFFF || entriesOnDisk == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            throw failure(name, "ZIP64 archives are not supported")
        }
        guard disk == 0, directoryDisk == 0, entriesOnDisk == entryCount else {
            throw failure(name, "multi-disk archives are not supported")
        }
        guard directoryOffset <= end, directorySize <= end - directoryOffset else {
            throw failure(name, "central directory lies outside the archive")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(entryCount)
        var offset = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for index in 0..<entryCount {
            guard directoryEnd - offset >= 46, u32(bytes, offset) == directorySignature else {
                throw failure(name, "central directory entry \(index + 1) is malformed")
            }
            let flags = u16(bytes, offset + 8)
            let method = u16(bytes, offset + 10)
            let crc = UInt32(u32(bytes, offset + 16))
            let compressedSize = u32(bytes, offset + 20)
            let uncompressedSize = u32(bytes, offset + 24)
            let nameLength = u16(bytes, offset + 28), extraLength = u16(bytes, offset + 30)
            let commentLength = u16(bytes, offset + 32)
            let localOffset = u32(bytes, offset + 42)
            let recordLength = 46 + nameLength + extraLength + commentLength
            guard directoryEnd - offset >= recordLength else {
                throw failure(name, "central directory entry \(index + 1) overruns the directory")
            }
            let entryName = String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            if compressedSize == 0xFFFF_FFFF || uncompressedSize == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF {
                throw failure(name, "entry \(entryName) needs ZIP64, which is not supported")
            }
            if flags & 1 != 0 { throw failure(name, "entry \(entryName) is encrypted") }
            entries.append(Entry(name: entryName, method: method, compressedSize: compressedSize,
                                 uncompressedSize: uncompressedSize, crc32: crc, localHeaderOffset: localOffset,
                                 archive: bytes, archiveName: name))
            offset += recordLength
        }
        return entries
    }

    fileprivate static func extract(_ entry: Entry) throws(GordonError) -> [UInt8] {
        let bytes = entry.archive
        let label = "\(entry.archiveName):\(entry.name)"
        let header = entry.localHeaderOffset
        guard header <= bytes.count - 30, u32(bytes, header) == localSignature else {
            throw failure(entry.archiveName, "local header of \(entry.name) is missing or malformed")
        }
        let dataStart = header + 30 + u16(bytes, header + 26) + u16(bytes, header + 28)
        guard dataStart <= bytes.count, entry.compressedSize <= bytes.count - dataStart else {
            throw failure(entry.archiveName, "data of \(entry.name) runs past the end of the archive")
        }
        let output: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw failure(entry.archiveName, "stored entry \(entry.name) has different compressed and uncompressed sizes")
            }
            output = Array(bytes[dataStart..<(dataStart + entry.compressedSize)])
        case 8:
            output = try bytes.withUnsafeBufferPointer { (all: UnsafeBufferPointer<UInt8>) throws(GordonError) -> [UInt8] in
                let data = UnsafeBufferPointer(rebasing: all[dataStart..<(dataStart + entry.compressedSize)])
                return try Inflate.decompress(data, expectedSize: entry.uncompressedSize, name: label)
            }
        default:
            throw failure(entry.archiveName, "entry \(entry.name) uses compression method \(entry.method); only 0 (stored) and 8 (deflate) are supported")
        }
        let crc = output.withUnsafeBufferPointer { CRC32.checksum($0) }
        guard crc == entry.crc32 else {
            throw GordonError(.invalidMarketData, "\(label): CRC-32 mismatch (archive says \(hex(entry.crc32)), data gives \(hex(crc)))",
                              context: ["file": label])
        }
        return output
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
