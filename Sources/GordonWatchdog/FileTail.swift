import GordonProcess

/// The last `limit` bytes of a file, trimmed, as one line (for the status file and the log).
func tailOfFile(_ path: String, limit: Int = 400) -> String? {
    let oneLine = lastLines(ofFile: path, limit: limit).joined(separator: " | ")
    return oneLine.isEmpty ? nil : oneLine
}

/// The non-empty lines of the file's last `limit` bytes (the first may be cut).
func lastLines(ofFile path: String, limit: Int) -> [String] {
    guard let text = readTextFile(path) else { return [] }
    let tail = String(decoding: Array(text.utf8.suffix(limit)), as: UTF8.self)
    return tail.split(whereSeparator: \.isNewline).map(String.init)
}
