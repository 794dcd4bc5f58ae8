/// An immutable map from names to values, built once by the code server and
/// read by every caller: the export table's modules, a version's functions.
///
/// A dynamic call looks up two names. `Dictionary<String, _>` hashes each with
/// a seeded SipHash through `Hasher`, which cost more than the rest of the call
/// together (callgrind: 600 of 1,740 instructions). Here a lookup hashes the
/// name's UTF-8 bytes as whole words, probes an open-addressed index and compares
/// the bytes of the one candidate whose hash matches. The keys are the node's
/// own (module and export names), so a caller choosing the name it looks up
/// cannot make probes longer than the table's fixed layout.
///
/// The values are objects, handed out unretained: a call that looks up a
/// module and a function then reaches them without reference counting, which
/// on two cores cost more wall time than the instructions around it.
struct NameTable<Value: AnyObject & Sendable>: @unchecked Sendable {
    // @unchecked: `Unmanaged` is a plain pointer; `owners` keeps every value alive.
    private struct Entry {
        let hash: UInt32
        let name: String
        let value: Unmanaged<Value>
    }
    private let entries: [Entry]
    /// Indexes into `entries`, open-addressed; -1 marks an empty bucket.
    private let buckets: [Int32]
    /// The values, retained for as long as the table lives.
    private let owners: [Value]

    /// A table of `pairs`; of two pairs with one name, the first is kept.
    init(_ pairs: [(String, Value)]) {
        var capacity = 4
        while capacity < pairs.count * 2 { capacity <<= 1 }
        var entries: [Entry] = []
        var owners: [Value] = []
        var buckets = [Int32](repeating: -1, count: capacity)
        next: for (name, value) in pairs {
            let hash = NameTable.hash(name)
            var bucket = Int(hash) & (capacity - 1)
            while buckets[bucket] >= 0 {
                let other = entries[Int(buckets[bucket])]
                if other.hash == hash && other.name == name { continue next }
                bucket = (bucket + 1) & (capacity - 1)
            }
            buckets[bucket] = Int32(entries.count)
            entries.append(Entry(hash: hash, name: name, value: .passUnretained(value)))
            owners.append(value)
        }
        self.entries = entries
        self.buckets = buckets
        self.owners = owners
    }

    /// The value stored under `name`.
    subscript(name: String) -> Value? {
        lookup(name).map { $0.takeUnretainedValue() }
    }

    /// The value stored under `name`, unretained: valid while the table is.
    func lookup(_ name: String) -> Unmanaged<Value>? {
        let hash = NameTable.hash(name)
        return buckets.withUnsafeBufferPointer { buckets in
            entries.withUnsafeBufferPointer { entries in
                let mask = buckets.count - 1
                var bucket = Int(hash) & mask
                while true {
                    let index = Int(buckets[bucket])
                    if index < 0 { return nil }
                    if entries[index].hash == hash && entries[index].name == name { return entries[index].value }
                    bucket = (bucket + 1) & mask
                }
            }
        }
    }

    var count: Int { entries.count }

    /// The names, in the order they were given.
    var keys: [String] { entries.map(\.name) }

    /// The pairs, in the order they were given.
    var pairs: [(String, Value)] { zip(entries, owners).map { ($0.name, $1) } }

    /// A multiplicative hash of the UTF-8 bytes, read as whole words: a name
    /// of up to 16 bytes is two loads and two rounds, with no loop and no copy
    /// (shorter reads overlap rather than run past the end).
    static func hash(_ name: String) -> UInt32 {
        if let hash = name.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) {
            return hash
        }
        return Array(name.utf8).withUnsafeBytes { hash($0) }
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let count = bytes.count
        var hash = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: count)
        let (first, last): (UInt64, UInt64)
        switch count {
        case 0:
            (first, last) = (0, 0)
        case 1...3:
            first = UInt64(bytes[0]) | UInt64(bytes[count / 2]) << 8
            last = UInt64(bytes[count - 1])
        case 4...7:
            first = UInt64(bytes.loadUnaligned(as: UInt32.self))
            last = UInt64(bytes.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
        default:
            var offset = 0
            while count - offset > 16 {
                hash = mix(hash, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                hash = mix(hash, bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
                offset += 16
            }
            first = bytes.loadUnaligned(fromByteOffset: max(0, count - 16), as: UInt64.self)
            last = bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        }
        hash = mix(mix(hash, first), last)
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    }

    @inline(__always)
    private static func mix(_ hash: UInt64, _ word: UInt64) -> UInt64 {
        let product = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
        return product ^ (product >> 29)
    }
}
