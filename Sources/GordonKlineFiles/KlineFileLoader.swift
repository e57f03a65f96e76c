import FoundationEssentials
public import GordonDomain
public import GordonKernel
public import GordonStrategy

/// Reads Binance kline files (`.csv`, or `.zip` archives of them as data.binance.vision
/// serves them) into one series.
///
/// Files are ordered by their first open time and concatenated; rows repeated across a
/// file boundary (the same open time with the same values, as overlapping daily and
/// monthly files have) are dropped; a repeated open time with different values, or time
/// going backwards, is an error. Gaps are kept: `BarSeries.gaps()` lets the caller decide.
public enum KlineFileLoader {
    public static func load(paths: [String], symbol: Symbol, interval: Interval) throws(GordonError) -> BarSeries {
        var files: [(name: String, bars: [Bar], decimals: Int)] = []
        for path in paths {
            let bytes = try read(path)
            let name = String(path.split(separator: "/").last ?? Substring(path))
            if path.lowercased().hasSuffix(".zip") {
                for entry in try ZipArchive(bytes, name: name).entries where entry.name.lowercased().hasSuffix(".csv") {
                    var bars: [Bar] = []
                    let decimals = try BinanceKlineCSV.parse(try entry.contents(), name: "\(name):\(entry.name)", into: &bars)
                    files.append((name + ":" + entry.name, bars, decimals))
                }
            } else {
                var bars: [Bar] = []
                let decimals = try BinanceKlineCSV.parse(bytes, name: name, into: &bars)
                files.append((name, bars, decimals))
            }
        }
        files.sort { ($0.bars.first?.openTime ?? .max) < ($1.bars.first?.openTime ?? .max) }
        let decimals = files.map(\.decimals).max() ?? 0
        var series = BarSeries(symbol: symbol, interval: interval, priceDecimals: decimals)
        series.reserveCapacity(files.reduce(0) { $0 + $1.bars.count })
        for file in files {
            for bar in file.bars {
                if let last = series.openTime.last {
                    if bar.openTime == last, bar == series[series.count - 1] { continue }
                    guard bar.openTime > last else {
                        throw GordonError(.invalidMarketData,
                                          "\(file.name): kline at \(Timestamp(milliseconds: bar.openTime)) is not after the one before "
                                          + "(\(Timestamp(milliseconds: last)))", context: ["file": file.name])
                    }
                }
                guard interval.openTime(containing: bar.openTime) == bar.openTime else {
                    throw GordonError(.invalidMarketData,
                                      "\(file.name): open time \(Timestamp(milliseconds: bar.openTime)) is not on the \(interval) grid",
                                      context: ["file": file.name])
                }
                series.append(bar)
            }
        }
        return series
    }

    static func read(_ path: String) throws(GordonError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw GordonError(.marketDataUnreadable, "cannot read \(path): no such file or not readable", context: ["path": path])
        }
    }
}
