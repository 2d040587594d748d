/// A C2SP tlog-tiles resource (c2sp.org/tlog-tiles): a tile of 256 hashes
/// at a level of the tree, or an entry bundle, possibly partial.
///
/// The n-th tile at level l holds MTH(D[(n·256 + i)·256^l ..< (n·256 + i + 1)·256^l])
/// for i below its width; an entry bundle holds the entries behind the
/// level-0 tile of the same index.
public struct Tile: Hashable, Sendable, CustomStringConvertible {
    public static let width = 256
    public static let maximumLevel = 63

    public enum Kind: Hashable, Sendable {
        case hashes(level: Int)
        case entries
    }

    public var kind: Kind
    public var index: UInt64
    /// 1...256; below 256 the tile is partial (`.p/<W>`).
    public var width: Int

    public init?(kind: Kind, index: UInt64, width: Int = Tile.width) {
        if case let .hashes(level) = kind, !(0...Self.maximumLevel).contains(level) { return nil }
        guard (1...Self.width).contains(width) else { return nil }
        self.kind = kind
        self.index = index
        self.width = width
    }

    public var level: Int {
        if case let .hashes(level) = kind { return level }
        return 0
    }

    public var isPartial: Bool { width < Self.width }

    /// The path below the log's prefix: `tile/<L>/<N>[.p/<W>]` or
    /// `tile/entries/<N>[.p/<W>]`, `<N>` in three-digit elements of which
    /// all but the last start with `x` (1234067 → `x001/x234/067`).
    public var path: String {
        let head: String
        switch kind {
        case let .hashes(level): head = "tile/\(level)/"
        case .entries: head = "tile/entries/"
        }
        return head + Self.encode(index) + (isPartial ? ".p/\(width)" : "")
    }

    public var description: String { path }

    /// Parses a path as `path` writes it, and nothing else (no leading
    /// zeros, no empty or extra elements): a client's request is hostile.
    public init?(path: String) {
        var elements = path.split(separator: "/", omittingEmptySubsequences: false)
        guard elements.count >= 3, elements.removeFirst() == "tile" else { return nil }
        let kind: Kind
        let head = elements.removeFirst()
        if head == "entries" {
            kind = .entries
        } else {
            guard let level = NoteEncoding.decimal(head), level <= UInt64(Self.maximumLevel) else { return nil }
            kind = .hashes(level: Int(level))
        }
        var width = Self.width
        if elements.count >= 2, let last = elements.last, let marker = elements.dropLast().last, marker.hasSuffix(".p") {
            guard let parsed = NoteEncoding.decimal(last), parsed >= 1, parsed < UInt64(Self.width) else { return nil }
            width = Int(parsed)
            elements.removeLast()
            elements[elements.count - 1] = marker.dropLast(2)
        }
        guard !elements.isEmpty, elements.count <= 7 else { return nil }
        var index: UInt64 = 0
        for (position, element) in elements.enumerated() {
            let isLast = position == elements.count - 1
            var digits = element
            if !isLast {
                guard digits.first == "x" else { return nil }
                digits = digits.dropFirst()
            }
            guard digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let group = UInt64(digits) else { return nil }
            let (shifted, overflow) = index.multipliedReportingOverflow(by: 1000)
            let (sum, carry) = shifted.addingReportingOverflow(group)
            guard !overflow, !carry else { return nil }
            index = sum
        }
        guard Self.encode(index) == elements.joined(separator: "/") else { return nil }
        self.init(kind: kind, index: index, width: width)
    }

    /// The tiles a tree of `size` entries consists of, at every level
    /// (entry bundles are those of level 0): full ones, then the partial
    /// one of each level, if any.
    public static func tiles(forTreeSize size: UInt64) -> [Tile] {
        var result: [Tile] = []
        var level = 0
        var span: UInt64 = 1 // entries per hash at this level: 256^level
        while level <= maximumLevel, size / span > 0 {
            let hashes = size / span
            let full = hashes / UInt64(width)
            for index in 0..<full { result.append(Tile(kind: .hashes(level: level), index: index)!) }
            let rest = Int(hashes % UInt64(width))
            if rest > 0 { result.append(Tile(kind: .hashes(level: level), index: full, width: rest)!) }
            let (next, overflow) = span.multipliedReportingOverflow(by: UInt64(width))
            if overflow { break }
            span = next
            level += 1
        }
        return result
    }

    /// The entries `[start, end)` the tile covers.
    public var entryRange: (start: UInt64, end: UInt64)? {
        var span: UInt64 = 1
        for _ in 0..<level {
            let (next, overflow) = span.multipliedReportingOverflow(by: UInt64(Self.width))
            if overflow { return nil }
            span = next
        }
        let (first, o1) = index.multipliedReportingOverflow(by: UInt64(Self.width))
        let (start, o2) = first.multipliedReportingOverflow(by: span)
        let (length, o3) = UInt64(width).multipliedReportingOverflow(by: span)
        let (end, o4) = start.addingReportingOverflow(length)
        if o1 || o2 || o3 || o4 { return nil }
        return (start, end)
    }

    static func encode(_ index: UInt64) -> String {
        var groups: [String] = []
        var rest = index
        repeat {
            let group = String(rest % 1000)
            groups.append(String(repeating: "0", count: 3 - group.count) + group)
            rest /= 1000
        } while rest > 0
        return groups.reversed().enumerated().map { $0.offset < groups.count - 1 ? "x" + $0.element : $0.element }.joined(separator: "/")
    }
}

extension Tile {
    /// An entry bundle: each entry as a big-endian uint16 length and its
    /// bytes. nil when an entry is longer than 65,535 bytes.
    public static func entryBundle(_ entries: [[UInt8]]) -> [UInt8]? {
        guard entries.allSatisfy({ $0.count <= Int(UInt16.max) }) else { return nil }
        return entries.flatMap { [UInt8($0.count >> 8), UInt8($0.count & 0xFF)] + $0 }
    }

    /// The entries of an entry bundle; nil when a length runs past the end.
    public static func entries(inBundle bundle: [UInt8]) -> [[UInt8]]? {
        var entries: [[UInt8]] = []
        var offset = 0
        while offset < bundle.count {
            guard offset + 2 <= bundle.count else { return nil }
            let length = Int(bundle[offset]) << 8 | Int(bundle[offset + 1])
            guard length <= bundle.count - offset - 2 else { return nil }
            entries.append(Array(bundle[(offset + 2)..<(offset + 2 + length)]))
            offset += 2 + length
        }
        return entries
    }
}

extension MerkleTree {
    /// The bytes of `tile` as a log serves it: its hashes concatenated, or
    /// for an entry bundle each entry as a big-endian uint16 length and the
    /// bytes (`entries` holds them, by index). nil when the tree is too
    /// small for it or an entry is longer than 65,535 bytes.
    public func data(of tile: Tile, entries: (Int) -> [UInt8]?) -> [UInt8]? {
        guard let range = tile.entryRange, range.end <= UInt64(count) else { return nil }
        let start = Int(range.start)
        switch tile.kind {
        case .entries:
            var bundled: [[UInt8]] = []
            for index in start..<Int(range.end) {
                guard let entry = entries(index), MerkleHash.leaf(entry) == leaves[index] else { return nil }
                bundled.append(entry)
            }
            return Tile.entryBundle(bundled)
        case .hashes:
            let span = (Int(range.end) - start) / tile.width
            var out: [UInt8] = []
            out.reserveCapacity(32 * tile.width)
            for i in 0..<tile.width {
                guard let hash = hash(of: (start + i * span)..<(start + (i + 1) * span)) else { return nil }
                out += hash.bytes
            }
            return out
        }
    }
}
