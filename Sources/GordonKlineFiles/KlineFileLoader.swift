import FoundationEssentials
public import GordonDomain
public import GordonKernel
public import GordonStrategy

/// Reads Binance kline files into one series: each path a `.csv`, or a `.zip` whose every
/// `.csv` entry is read (as data.binance.vision serves them).
///
/// Files are ordered by their first open time and concatenated. Where a file overlaps the
/// bars already taken (a daily file inside a monthly one, or the same row at a boundary),
/// rows identical to the bar with the same open time are dropped; a row that differs is
/// an error, as is a row that falls between two existing bars. Gaps are kept: the caller
/// decides with `BarSeries.gaps()`. `priceDecimals` is the largest of the files'.
public enum KlineFileLoader {
    public static func load(paths: [String], symbol: Symbol, interval: Interval) throws(GordonError) -> BarSeries {
        var files: [(name: String, bars: [Bar], decimals: Int)] = []
        try forEachTable(paths: paths) { (name, bytes) throws(GordonError) in
            var bars: [Bar] = []
            let decimals = try BinanceKlineCSV.parse(bytes, name: name, interval: interval, into: &bars)
            files.append((name, bars, decimals))
        }
        // Stable: files with equal first times (or empty ones) keep the order given.
        let ordered = files.enumerated().sorted {
            ($0.element.bars.first?.openTime ?? .max, $0.offset) < ($1.element.bars.first?.openTime ?? .max, $1.offset)
        }.map(\.element)
        var series = BarSeries(symbol: symbol, interval: interval, priceDecimals: ordered.map(\.decimals).max() ?? 0)
        series.reserveCapacity(ordered.reduce(0) { $0 + $1.bars.count })
        var previousFile = ""
        for file in ordered {
            for bar in file.bars {
                guard let last = series.openTime.last, bar.openTime <= last else {
                    series.append(bar)
                    continue
                }
                // Overlap with what is already taken: only an identical row may repeat.
                let existing = series.openTime.partitionPoint { $0 >= bar.openTime }
                guard existing < series.count, series.openTime[existing] == bar.openTime else {
                    throw GordonError(.invalidMarketData,
                                      "\(file.name): the kline at \(Timestamp(milliseconds: bar.openTime)) falls inside "
                                      + "\(previousFile) but is not in it", context: ["file": file.name])
                }
                guard series[existing] == bar else {
                    throw GordonError(.invalidMarketData,
                                      "\(file.name): the kline at \(Timestamp(milliseconds: bar.openTime)) differs from the one "
                                      + "in \(previousFile)", context: ["file": file.name])
                }
            }
            previousFile = file.name
        }
        return series
    }

    /// Each path's kline tables, in the order given, with a name for messages: a `.csv` file
    /// itself, or every `.csv` entry of a `.zip` (`BTCUSDT-1m-2024-01.zip:BTCUSDT-1m-2024-01.csv`).
    public static func forEachTable(paths: [String], _ body: (String, UnsafeBufferPointer<UInt8>) throws(GordonError) -> Void) throws(GordonError) {
        for path in paths {
            let data = try read(path)
            let name = fileName(path)
            if path.lowercased().hasSuffix(".zip") {
                let archive = try ZipArchive([UInt8](data), name: name)
                let tables = archive.entries.filter { !$0.isDirectory && $0.name.lowercased().hasSuffix(".csv") }
                guard !tables.isEmpty else {
                    throw GordonError(.invalidMarketData, "\(name): the archive holds no .csv file", context: ["path": path])
                }
                for entry in tables {
                    let contents = try entry.contents()
                    try contents.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(GordonError) in
                        try body("\(name):\(entry.name)", buffer)
                    }
                }
            } else {
                // Read where it lies: a kline file is large, and a copy costs as much as the parse.
                var outcome: Result<Void, GordonError> = .success(())
                data.withUnsafeBytes { raw in
                    outcome = Result { () throws(GordonError) in try body(name, raw.bindMemory(to: UInt8.self)) }
                }
                try outcome.get()
            }
        }
    }

    /// The whole file. Missing or unreadable is `marketDataUnreadable` naming the path.
    static func read(_ path: String) throws(GordonError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw GordonError(.marketDataUnreadable, "cannot read market data file \(path): missing or not readable",
                              context: ["path": path])
        }
    }

    /// Writes `bytes` to `path`, replacing it: the one file-writing path for the kline CSVs,
    /// reports and benchmark files built on these series.
    public static func write(_ bytes: [UInt8], to path: String) throws(GordonError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw GordonError(.marketDataUnreadable, "cannot write \(path): \(error)", context: ["path": path])
        }
    }

    static func fileName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, which must be false then true
    /// along the array.
    fileprivate func partitionPoint(where predicate: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
