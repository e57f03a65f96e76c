public import GordonKernel

// Temporary: replaced by the real reader.
public struct ZipArchive {
    public struct Entry { public let name: String; public func contents() throws(GordonError) -> [UInt8] { [] } }
    public let entries: [Entry]
    public init(_ bytes: [UInt8], name: String) throws(GordonError) {
        throw GordonError(.invalidMarketData, "zip not yet supported")
    }
}
