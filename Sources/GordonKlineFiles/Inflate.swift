public import GordonKernel

/// A raw DEFLATE decoder (RFC 1951): stored, fixed-Huffman and dynamic-Huffman blocks.
///
/// Written for untrusted input: every read is bounds-checked, every loop consumes input or
/// ends, and the output never grows past `limit` (a zip entry passes its declared
/// uncompressed size, so a lying header cannot make it allocate more). Bad input is a
/// `GordonError` with code `invalidMarketData`, never a trap.
///
/// Decoding is table driven: a 10-bit lookup table answers short codes in one step; longer
/// codes (rarer than one symbol in a thousand) are walked canonically, one bit at a time.
public enum Inflate {
    /// Decodes the raw DEFLATE stream `input` (no zlib or gzip wrapper).
    ///
    /// - Parameters:
    ///   - input: the compressed bytes.
    ///   - expectedSize: if given, the output must be exactly this long; it is also the cap.
    ///   - limit: the most bytes the output may reach when `expectedSize` is nil.
    ///   - name: names the stream in error messages (a file or zip entry).
    public static func decompress(_ input: [UInt8], expectedSize: Int? = nil, limit: Int = 1 << 32,
                                  name: String = "deflate stream") throws(GordonError) -> [UInt8] {
        try input.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(GordonError) -> [UInt8] in
            try decompress(buffer, expectedSize: expectedSize, limit: limit, name: name)
        }
    }

    /// As `decompress(_:expectedSize:limit:name:)`, over borrowed bytes.
    public static func decompress(_ input: UnsafeBufferPointer<UInt8>, expectedSize: Int? = nil, limit: Int = 1 << 32,
                                  name: String = "deflate stream") throws(GordonError) -> [UInt8] {
        guard let expectedSize else {
            let cap = max(0, limit)
            var inflater = Inflater(input: input, name: name, cap: cap,
                                    output: .allocate(capacity: min(cap, max(1 << 16, input.count * 4)) + Inflater.slack),
                                    capacity: min(cap, max(1 << 16, input.count * 4)), growable: true)
            defer {
                inflater.out.deallocate()
                inflater.releaseTables()
            }
            try inflater.run()
            return [UInt8](UnsafeBufferPointer(start: inflater.out, count: inflater.outCount))
        }
        // Deflate cannot expand more than 1032:1 (a 258-byte match in two bits), so a larger
        // declared size is a lie, refused before anything is allocated.
        guard expectedSize >= 0, expectedSize / 1032 <= input.count + 1 else {
            throw GordonError(.invalidMarketData, "\(name): declared size \(expectedSize) is impossible for \(input.count) "
                              + "bytes of deflate data", context: ["file": name])
        }
        // Decode straight into the result, sized as declared (plus slack for 8-byte copies).
        var failure: GordonError?
        let result = [UInt8](unsafeUninitializedCapacity: expectedSize + Inflater.slack) { buffer, initialized in
            var inflater = Inflater(input: input, name: name, cap: expectedSize, output: buffer.baseAddress!,
                                    capacity: expectedSize, growable: false)
            defer { inflater.releaseTables() }
            do throws(GordonError) {
                try inflater.run()
                if inflater.outCount != expectedSize {
                    throw inflater.failure("inflated to \(inflater.outCount) bytes but the header says \(expectedSize)")
                }
                initialized = inflater.outCount
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return result
    }
}

// MARK: - Decoder state

/// Lengths 257...285: base length and extra bits (RFC 1951 §3.2.5).
private let lengthBase: [UInt16] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
                                    115, 131, 163, 195, 227, 258]
private let lengthExtra: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
/// Distance codes 0...29: base distance and extra bits.
private let distanceBase: [UInt16] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                      1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
private let distanceExtra: [UInt8] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11,
                                      12, 12, 13, 13]
/// The order in which a dynamic block lists the code-length code's lengths.
private let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

/// One canonical Huffman code, in storage the inflater owns.
private struct HuffmanTable {
    static let fastBits = 10
    static let fastSize = 1 << fastBits
    static let maxBits = 15

    /// `symbol << 4 | length` for every 10-bit window whose code is at most 10 bits; 0 sends
    /// the decoder to the canonical walk (longer code, or no code at all).
    let fast: UnsafeMutablePointer<UInt16>
    /// Codes per length, index 0...15.
    let counts: UnsafeMutablePointer<UInt16>
    /// Symbols in canonical order: by length, then by value.
    let sorted: UnsafeMutablePointer<UInt16>
    let symbolCapacity: Int

    /// How a set of lengths turned out.
    enum Shape { case complete, empty, singleCode, incomplete }

    /// Builds the code for `lengths` (each 0...15). Over-subscribed lengths are an error;
    /// the shape tells the caller whether an incomplete code is acceptable where it is used.
    func build(_ lengths: UnsafePointer<UInt8>, count: Int) -> Shape? {
        precondition(count <= symbolCapacity)
        for length in 0...Self.maxBits { counts[length] = 0 }
        for symbol in 0..<count { counts[Int(lengths[symbol])] += 1 }
        counts[0] = 0
        var remaining = 1  // code space left, in units of the current length
        var used = 0
        for length in 1...Self.maxBits {
            remaining = remaining << 1 - Int(counts[length])
            if remaining < 0 { return nil }  // over-subscribed
            used += Int(counts[length])
        }
        // Canonical order (RFC 1951 §3.2.2): offsets of each length's run in `sorted`.
        var offsets = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var nextCodes = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &offsets) { rawOffsets in
            withUnsafeMutableBytes(of: &nextCodes) { rawCodes in
                let offset = rawOffsets.bindMemory(to: Int.self)
                let nextCode = rawCodes.bindMemory(to: Int.self)
                var code = 0
                for length in 1...Self.maxBits {
                    code = (code + Int(counts[length - 1])) << 1
                    nextCode[length] = code
                    if length < Self.maxBits { offset[length + 1] = offset[length] + Int(counts[length]) }
                }
                fast.update(repeating: 0, count: Self.fastSize)
                for symbol in 0..<count {
                    let length = Int(lengths[symbol])
                    guard length > 0 else { continue }
                    sorted[offset[length]] = UInt16(symbol)
                    offset[length] += 1
                    let code = nextCode[length]
                    nextCode[length] += 1
                    guard length <= Self.fastBits else { continue }
                    // The stream sends a code's most significant bit first; the bit reader
                    // yields bits least significant first, so the table is indexed reversed.
                    var reversed = 0
                    for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
                    let entry = UInt16(symbol << 4 | length)
                    var slot = reversed
                    while slot < Self.fastSize {
                        fast[slot] = entry
                        slot += 1 << length
                    }
                }
            }
        }
        if remaining == 0 { return .complete }
        if used == 0 { return .empty }
        if used == 1 && counts[1] == 1 { return .singleCode }
        return .incomplete
    }
}

private struct Inflater {
    let input: UnsafeBufferPointer<UInt8>
    let name: String
    /// The output may never exceed this.
    let cap: Int

    var position = 0
    var bits: UInt64 = 0
    var bitCount = 0

    var out: UnsafeMutablePointer<UInt8>
    var outCapacity: Int
    var outCount = 0

    let storage: UnsafeMutablePointer<UInt16>
    let literals: HuffmanTable
    let distances: HuffmanTable
    let codeLengths: HuffmanTable
    let lengthScratch: UnsafeMutablePointer<UInt8>
    /// Base and extra bits of the 29 length and 30 distance codes, as `base << 4 | extra`.
    let lengthCodes: UnsafeMutablePointer<UInt32>
    let distanceCodes: UnsafeMutablePointer<UInt32>

    /// Bytes allocated past `outCapacity`, so a match may be copied eight bytes at a time.
    static let slack = 8
    let growable: Bool

    init(input: UnsafeBufferPointer<UInt8>, name: String, cap: Int, output: UnsafeMutablePointer<UInt8>, capacity: Int,
         growable: Bool) {
        self.input = input
        self.name = name
        self.cap = cap
        self.growable = growable
        out = output
        outCapacity = capacity
        let tableWords = HuffmanTable.fastSize + 16
        storage = .allocate(capacity: 3 * tableWords + 288 + 32 + 19)
        literals = HuffmanTable(fast: storage, counts: storage + HuffmanTable.fastSize,
                                sorted: storage + 3 * tableWords, symbolCapacity: 288)
        distances = HuffmanTable(fast: storage + tableWords, counts: storage + tableWords + HuffmanTable.fastSize,
                                 sorted: storage + 3 * tableWords + 288, symbolCapacity: 32)
        codeLengths = HuffmanTable(fast: storage + 2 * tableWords, counts: storage + 2 * tableWords + HuffmanTable.fastSize,
                                   sorted: storage + 3 * tableWords + 288 + 32, symbolCapacity: 19)
        lengthScratch = .allocate(capacity: 288 + 32)
        lengthCodes = .allocate(capacity: 29 + 30)
        distanceCodes = lengthCodes + 29
        for code in 0..<29 { lengthCodes[code] = UInt32(lengthBase[code]) << 4 | UInt32(lengthExtra[code]) }
        for code in 0..<30 { distanceCodes[code] = UInt32(distanceBase[code]) << 4 | UInt32(distanceExtra[code]) }
    }

    func releaseTables() {
        storage.deallocate()
        lengthScratch.deallocate()
        lengthCodes.deallocate()
    }

    func failure(_ reason: String) -> GordonError {
        GordonError(.invalidMarketData, "\(name): corrupt deflate data: \(reason)", context: ["file": name])
    }

    // MARK: Bits

    /// Tops the bit buffer up to at least 56 bits while input lasts.
    @inline(__always)
    mutating func refill() {
        if input.count - position >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(input.baseAddress! + position).loadUnaligned(as: UInt64.self))
            bits |= word << UInt64(bitCount)
            position += (63 - bitCount) >> 3
            bitCount |= 56
        } else {
            while bitCount <= 56, position < input.count {
                bits |= UInt64(input[position]) << UInt64(bitCount)
                position += 1
                bitCount += 8
            }
        }
    }

    @inline(__always)
    mutating func consume(_ count: Int) throws(GordonError) {
        guard count <= bitCount else { throw failure("stream ends early") }
        bits >>= UInt64(count)
        bitCount -= count
    }

    /// The next `count` (0...32) bits as a number, least significant first.
    @inline(__always)
    mutating func take(_ count: Int) throws(GordonError) -> Int {
        if bitCount < count { refill() }
        let value = Int(truncatingIfNeeded: bits & ((1 << UInt64(count)) - 1))
        try consume(count)
        return value
    }

    /// One symbol of `table`; the caller has refilled (or input is nearly gone).
    @inline(__always)
    mutating func decode(_ table: HuffmanTable) throws(GordonError) -> Int {
        let entry = Int(table.fast[Int(truncatingIfNeeded: bits) & (HuffmanTable.fastSize - 1)])
        if entry != 0 {
            try consume(entry & 15)
            return entry >> 4
        }
        return try decodeSlowly(table)
    }

    /// The canonical walk: at each length the codes form one run starting at `first`.
    mutating func decodeSlowly(_ table: HuffmanTable) throws(GordonError) -> Int {
        var code = 0, first = 0, index = 0
        for length in 1...HuffmanTable.maxBits {
            code = code << 1 | Int(truncatingIfNeeded: (bits >> UInt64(length - 1)) & 1)
            let count = Int(table.counts[length])
            if code >= first && code - first < count {
                try consume(length)
                return Int(table.sorted[index + code - first])
            }
            index += count
            first = (first + count) << 1
        }
        if bitCount < HuffmanTable.maxBits { throw failure("stream ends early") }
        throw failure("invalid Huffman code")
    }

    // MARK: Output

    mutating func grow(toHold extra: Int) throws(GordonError) {
        let needed = outCount + extra
        guard needed <= cap, growable else {
            throw failure("output exceeds \(cap) bytes" + (growable ? "" : " (the declared size)"))
        }
        var capacity = outCapacity
        while capacity < needed { capacity = capacity > cap / 2 ? cap : capacity * 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + Self.slack)
        bigger.update(from: out, count: outCount)
        out.deallocate()
        out = bigger
        outCapacity = capacity
    }

    // MARK: Blocks

    mutating func run() throws(GordonError) {
        var last = false
        while !last {
            last = try take(1) == 1
            switch try take(2) {
            case 0: try storedBlock()
            case 1:
                try fixedTables()
                try huffmanBlock()
            case 2:
                try dynamicTables()
                try huffmanBlock()
            default: throw failure("reserved block type 3")
            }
        }
    }

    mutating func storedBlock() throws(GordonError) {
        try consume(bitCount & 7)  // to the byte boundary
        // Whole bytes left in the bit buffer go back to the input.
        position -= bitCount >> 3
        bits = 0
        bitCount = 0
        guard input.count - position >= 4 else { throw failure("stream ends early") }
        let length = Int(input[position]) | Int(input[position + 1]) << 8
        let complement = Int(input[position + 2]) | Int(input[position + 3]) << 8
        position += 4
        guard length ^ 0xFFFF == complement else { throw failure("stored block length check fails") }
        guard input.count - position >= length else { throw failure("stream ends early") }
        if outCapacity - outCount < length { try grow(toHold: length) }
        (out + outCount).update(from: input.baseAddress! + position, count: length)
        outCount += length
        position += length
    }

    mutating func fixedTables() throws(GordonError) {
        for symbol in 0..<288 {
            lengthScratch[symbol] = symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8
        }
        for symbol in 0..<32 { lengthScratch[288 + symbol] = 5 }
        _ = literals.build(lengthScratch, count: 288)
        _ = distances.build(lengthScratch + 288, count: 32)
    }

    mutating func dynamicTables() throws(GordonError) {
        let literalCount = try take(5) + 257
        let distanceCount = try take(5) + 1
        let codeLengthCount = try take(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else {
            throw failure("too many length or distance codes (\(literalCount), \(distanceCount))")
        }
        var codeLengthLengths: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 19 bytes, zeroed
        try withUnsafeMutableBytes(of: &codeLengthLengths) { (raw: UnsafeMutableRawBufferPointer) throws(GordonError) in
            let lengths = raw.bindMemory(to: UInt8.self)
            for index in 0..<codeLengthCount { lengths[codeLengthOrder[index]] = UInt8(try take(3)) }
            guard codeLengths.build(lengths.baseAddress!, count: 19) == .complete else {
                throw failure("code-length code is incomplete or over-subscribed")
            }
        }
        let total = literalCount + distanceCount
        var index = 0
        while index < total {
            if bitCount < 16 { refill() }
            let symbol = try decode(codeLengths)
            switch symbol {
            case 0...15:
                lengthScratch[index] = UInt8(symbol)
                index += 1
            default:
                let repeated: UInt8
                let times: Int
                if symbol == 16 {
                    guard index > 0 else { throw failure("repeat of a code length with none before") }
                    repeated = lengthScratch[index - 1]
                    times = 3 + (try take(2))
                } else if symbol == 17 {
                    repeated = 0
                    times = 3 + (try take(3))
                } else {
                    repeated = 0
                    times = 11 + (try take(7))
                }
                guard index + times <= total else { throw failure("code lengths overrun the table") }
                (lengthScratch + index).update(repeating: repeated, count: times)
                index += times
            }
        }
        guard lengthScratch[256] != 0 else { throw failure("no end-of-block code") }
        switch literals.build(lengthScratch, count: literalCount) {
        case .complete?, .singleCode?: break
        default: throw failure("literal/length code is incomplete or over-subscribed")
        }
        switch distances.build(lengthScratch + literalCount, count: distanceCount) {
        case .complete?, .singleCode?, .empty?: break  // empty: a block of literals only
        default: throw failure("distance code is incomplete or over-subscribed")
        }
    }

    /// The hot loop. It works on local copies of the bit reader and output state, so they
    /// stay in registers (stores through `out` could otherwise alias them), and hands them
    /// back to `self` around the rare calls that need it.
    mutating func huffmanBlock() throws(GordonError) {
        guard let input = self.input.baseAddress else { throw failure("stream ends early") }
        let inputCount = self.input.count
        var bits = self.bits, bitCount = self.bitCount, position = self.position
        var out = self.out, outCapacity = self.outCapacity, outCount = self.outCount
        let literalFast = literals.fast, distanceFast = distances.fast
        let mask = UInt64(HuffmanTable.fastSize - 1)
        while true {
            // 48 bits cover the longest symbol: 15 + 5 extra + 15 + 13 extra.
            if bitCount < 48 {
                if inputCount &- position >= 8 {
                    let word = UInt64(littleEndian: UnsafeRawPointer(input + position).loadUnaligned(as: UInt64.self))
                    bits |= word << UInt64(bitCount)
                    position &+= (63 &- bitCount) >> 3
                    bitCount |= 56
                } else {
                    while bitCount <= 56, position < inputCount {
                        bits |= UInt64(input[position]) << UInt64(bitCount)
                        position &+= 1
                        bitCount &+= 8
                    }
                }
            }
            var symbol: Int
            let entry = Int(literalFast[Int(truncatingIfNeeded: bits & mask)])
            if entry != 0 {
                let length = entry & 15
                guard length <= bitCount else { throw failure("stream ends early") }
                bits >>= UInt64(length)
                bitCount &-= length
                symbol = entry >> 4
            } else {
                (self.bits, self.bitCount) = (bits, bitCount)
                symbol = try decodeSlowly(literals)
                (bits, bitCount) = (self.bits, self.bitCount)
            }
            if symbol < 256 {
                if outCount == outCapacity {
                    self.outCount = outCount
                    try grow(toHold: 1)
                    (out, outCapacity) = (self.out, self.outCapacity)
                }
                out[outCount] = UInt8(truncatingIfNeeded: symbol)
                outCount &+= 1
                continue
            }
            if symbol == 256 { break }
            let lengthCode = symbol &- 257
            guard lengthCode < 29 else { throw failure("invalid length symbol \(symbol)") }
            let lengthEntry = Int(lengthCodes[lengthCode])
            let lengthBits = lengthEntry & 15
            guard lengthBits <= bitCount else { throw failure("stream ends early") }
            let length = lengthEntry >> 4 &+ Int(truncatingIfNeeded: bits & ((1 << UInt64(lengthBits)) &- 1))
            bits >>= UInt64(lengthBits)
            bitCount &-= lengthBits

            var distanceCode: Int
            let distanceEntry = Int(distanceFast[Int(truncatingIfNeeded: bits & mask)])
            if distanceEntry != 0 {
                let codeLength = distanceEntry & 15
                guard codeLength <= bitCount else { throw failure("stream ends early") }
                bits >>= UInt64(codeLength)
                bitCount &-= codeLength
                distanceCode = distanceEntry >> 4
            } else {
                (self.bits, self.bitCount) = (bits, bitCount)
                distanceCode = try decodeSlowly(distances)
                (bits, bitCount) = (self.bits, self.bitCount)
            }
            guard distanceCode < 30 else { throw failure("invalid distance symbol \(distanceCode)") }
            let distanceInfo = Int(distanceCodes[distanceCode])
            let distanceBits = distanceInfo & 15
            guard distanceBits <= bitCount else { throw failure("stream ends early") }
            let distance = distanceInfo >> 4 &+ Int(truncatingIfNeeded: bits & ((1 << UInt64(distanceBits)) &- 1))
            bits >>= UInt64(distanceBits)
            bitCount &-= distanceBits

            guard distance <= outCount else { throw failure("distance \(distance) reaches before the start of the output") }
            if outCapacity &- outCount < length {
                self.outCount = outCount
                try grow(toHold: length)
                (out, outCapacity) = (self.out, self.outCapacity)
            }
            let target = out + outCount
            let source = target - distance
            if distance >= 8 {
                // Eight bytes at a time: each load reads only bytes already written, and the
                // last store may spill up to 7 bytes into the slack.
                var offset = 0
                repeat {
                    UnsafeMutableRawPointer(target + offset).storeBytes(
                        of: UnsafeRawPointer(source + offset).loadUnaligned(as: UInt64.self), as: UInt64.self)
                    offset &+= 8
                } while offset < length
            } else if distance == 1 {
                target.update(repeating: source.pointee, count: length)
            } else {
                for offset in 0..<length { target[offset] = source[offset] }
            }
            outCount &+= length
        }
        (self.bits, self.bitCount, self.position, self.outCount) = (bits, bitCount, position, outCount)
    }
}
