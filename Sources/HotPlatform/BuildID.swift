#if canImport(Glibc)
import Glibc
#endif

/// Which build of an executable a file is: the GNU build-id the linker
/// wrote into it (a hash of its contents), or, for an executable linked
/// without one, the SHA-256 of the whole file. `hot build` stamps it into
/// every module compiled against a host, and the host's loader compares it
/// with its own (docs/ARCHITECTURE.md, "Host modules").
public enum HostFingerprint {
    /// The fingerprint of the executable at `path`.
    public static func of(executable path: String) throws(SystemError) -> String {
        if let id = try ELFNotes.gnuBuildID(ofFile: path) { return id }
        guard let bytes = readFile(path) else { throw SystemError("open \(path)") }
        return "sha256-" + SHA256Hasher.hex(of: bytes)
    }

    /// The fingerprint of the running executable, read once. It is read
    /// through /proc/self/exe, which stays the image that runs even after a
    /// rebuild replaced the file on disk; nil if that cannot be read.
    public static let current: String? = try? of(executable: "/proc/self/exe")
}

/// A reader of an ELF file's notes, through its program headers (the
/// segments the loader maps), reading only the headers and the note
/// segments: a debug server executable runs to hundreds of megabytes.
public enum ELFNotes {
    /// `NT_GNU_BUILD_ID`, in a note named "GNU".
    static let gnuBuildIDType: UInt32 = 3
    /// `PT_NOTE`.
    static let noteSegment: UInt32 = 4

    /// The GNU build-id of a 64-bit little-endian ELF file as lowercase hex;
    /// nil when the file is not such an ELF file or has no build-id note.
    public static func gnuBuildID(ofFile path: String) throws(SystemError) -> String? {
        try reading(path) { (fd, header) throws(SystemError) in try gnuBuildID(fd, header) }
    }

    private static func gnuBuildID(_ fd: Int32, _ header: [UInt8]) throws(SystemError) -> String? {
        let programHeaders = Int(load(UInt64.self, header, at: 0x20))
        let entrySize = Int(load(UInt16.self, header, at: 0x36))
        let count = Int(load(UInt16.self, header, at: 0x38))
        guard entrySize >= 56, count > 0, count < 4096 else { return nil }
        let table = try readAt(fd, offset: programHeaders, count: entrySize * count)
        guard table.count == entrySize * count else { return nil }
        for index in 0..<count {
            let base = index * entrySize
            guard load(UInt32.self, table, at: base) == noteSegment else { continue }
            let offset = Int(load(UInt64.self, table, at: base + 0x08))
            let size = Int(load(UInt64.self, table, at: base + 0x20))
            guard size > 0, size < 1 << 20 else { continue }
            let notes = try readAt(fd, offset: offset, count: size)
            if let id = gnuBuildID(inNotes: notes) { return id }
        }
        return nil
    }

    /// The build-id in a note segment's bytes: each note is name size,
    /// descriptor size and type (four bytes each), then the name and the
    /// descriptor, each padded to four bytes.
    static func gnuBuildID(inNotes notes: [UInt8]) -> String? {
        var at = 0
        while at + 12 <= notes.count {
            let nameSize = Int(load(UInt32.self, notes, at: at))
            let descriptorSize = Int(load(UInt32.self, notes, at: at + 4))
            let type = load(UInt32.self, notes, at: at + 8)
            let name = at + 12
            let descriptor = name + padded(nameSize)
            let next = descriptor + padded(descriptorSize)
            guard next <= notes.count, next > at else { return nil }
            if type == gnuBuildIDType, nameSize == 4, notes[name..<name + 4] == [0x47, 0x4E, 0x55, 0], descriptorSize > 0 {
                return Hex.encode(notes[descriptor..<descriptor + descriptorSize])
            }
            at = next
        }
        return nil
    }

    private static func padded(_ size: Int) -> Int { (size + 3) & ~3 }

    /// The contents of the section named `name` of a 64-bit little-endian
    /// ELF file (an object file's `.swift1_autolink_entries`, say), read
    /// through the section headers and their name table; nil when the file
    /// is not such a file or has no such section.
    public static func section(named name: String, ofFile path: String) throws(SystemError) -> [UInt8]? {
        try reading(path) { (fd, header) throws(SystemError) in try section(named: name, fd, header) }
    }

    /// Opens `path` and hands `body` the descriptor and the ELF header, when
    /// the file is a 64-bit little-endian ELF file (ELFCLASS64, ELFDATA2LSB:
    /// the only layout Hot runs on); nil otherwise.
    private static func reading<T>(
        _ path: String, _ body: (Int32, [UInt8]) throws(SystemError) -> T?
    ) throws(SystemError) -> T? {
        let file = try Descriptor("open \(path)") { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
        let header = try readAt(file.number, offset: 0, count: 64)
        guard header.count == 64, header[0..<4] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2, header[5] == 1 else {
            return nil
        }
        return try body(file.number, header)
    }

    private static func section(named name: String, _ fd: Int32, _ header: [UInt8]) throws(SystemError) -> [UInt8]? {
        let namesIndex = Int(load(UInt16.self, header, at: 0x3E))
        guard let (table, entrySize, count) = try sectionHeaders(fd, header), namesIndex < count else { return nil }
        func range(_ index: Int) -> (offset: Int, size: Int) {
            (Int(load(UInt64.self, table, at: index * entrySize + 0x18)), Int(load(UInt64.self, table, at: index * entrySize + 0x20)))
        }
        let names = range(namesIndex)
        guard names.size < 1 << 24 else { return nil }
        let nameTable = try readAt(fd, offset: names.offset, count: names.size)
        let wanted = Array(name.utf8) + [0]
        for index in 0..<count {
            let at = Int(load(UInt32.self, table, at: index * entrySize))
            guard at + wanted.count <= nameTable.count, Array(nameTable[at..<at + wanted.count]) == wanted else { continue }
            let contents = range(index)
            guard contents.size < 1 << 24 else { return nil }
            let bytes = try readAt(fd, offset: contents.offset, count: contents.size)
            return bytes.count == contents.size ? bytes : nil
        }
        return nil
    }

    /// `SHT_DYNSYM`: the symbols the dynamic linker sees.
    static let dynamicSymbolTable: UInt32 = 11
    /// The size of one `Elf64_Sym`.
    static let symbolSize = 24

    /// The names of the symbols a 64-bit little-endian ELF file defines in
    /// its dynamic symbol table (`.dynsym`, what `dlsym` finds) that start
    /// with `prefix`, in the table's order; empty when it has none. A host
    /// linked with `--export-dynamic` lists its built-in modules' entries
    /// there (docs/ARCHITECTURE.md, "Built-in versions").
    public static func dynamicSymbols(withPrefix prefix: String, ofFile path: String) throws(SystemError) -> [String] {
        try reading(path) { (fd, header) throws(SystemError) in try dynamicSymbols(withPrefix: prefix, fd, header) } ?? []
    }

    private static func dynamicSymbols(withPrefix prefix: String, _ fd: Int32, _ header: [UInt8]) throws(SystemError) -> [String]? {
        guard let (table, entrySize, count) = try sectionHeaders(fd, header) else { return nil }
        func field<T: FixedWidthInteger>(_: T.Type, _ index: Int, _ offset: Int) -> T { load(T.self, table, at: index * entrySize + offset) }
        guard let symbolsIndex = (0..<count).first(where: { field(UInt32.self, $0, 0x04) == dynamicSymbolTable }) else { return nil }
        let namesIndex = Int(field(UInt32.self, symbolsIndex, 0x28))
        guard namesIndex < count else { return nil }
        // A large server linked with --export-dynamic holds tens of
        // megabytes of mangled names; the bound only refuses nonsense.
        let limit = 1 << 30
        let symbolsSize = Int(field(UInt64.self, symbolsIndex, 0x20))
        let namesSize = Int(field(UInt64.self, namesIndex, 0x20))
        guard symbolsSize < limit, namesSize < limit else { return nil }
        let symbols = try readAt(fd, offset: Int(field(UInt64.self, symbolsIndex, 0x18)), count: symbolsSize)
        let names = try readAt(fd, offset: Int(field(UInt64.self, namesIndex, 0x18)), count: namesSize)
        let wanted = Array(prefix.utf8)
        var found: [String] = []
        for at in stride(from: 0, to: symbols.count - symbolSize + 1, by: symbolSize) {
            let name = Int(load(UInt32.self, symbols, at: at))
            // Section index 0 (SHN_UNDEF): a symbol this file uses, not one it defines.
            guard load(UInt16.self, symbols, at: at + 6) != 0, name + wanted.count <= names.count,
                names[name..<name + wanted.count].elementsEqual(wanted),
                let end = names[name...].firstIndex(of: 0)
            else { continue }
            found.append(String(decoding: names[name..<end], as: UTF8.self))
        }
        return found
    }

    /// The section header table: its bytes, the size of one entry and the count.
    private static func sectionHeaders(_ fd: Int32, _ header: [UInt8]) throws(SystemError) -> ([UInt8], Int, Int)? {
        let sectionHeaders = Int(load(UInt64.self, header, at: 0x28))
        let entrySize = Int(load(UInt16.self, header, at: 0x3A))
        // 0 sections means more than fit in the header (extended numbering): not read here.
        let count = Int(load(UInt16.self, header, at: 0x3C))
        guard entrySize >= 64, count > 0 else { return nil }
        let table = try readAt(fd, offset: sectionHeaders, count: entrySize * count)
        guard table.count == entrySize * count else { return nil }
        return (table, entrySize, count)
    }

    private static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }

    /// Up to `count` bytes at `offset`; fewer at the end of the file.
    private static func readAt(_ fd: Int32, offset: Int, count: Int) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = try SystemError.retrying("pread") {
                bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            }
            if n == 0 { break }
            done += n
        }
        return Array(bytes[0..<done])
    }
}
