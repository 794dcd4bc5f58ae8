import Testing

@testable import HotWire

/// Frames of varied types and sizes, each payload distinct so a lost, doubled
/// or misaligned frame shows.
private func sampleFrames(_ count: Int, payloadBase: Int = 0) -> [Frame] {
    let types: [FrameType] = [.hello, .challenge, .welcome, .request, .response, .chunk]
    return (0..<count).map { i in
        let size = (i * 37 + payloadBase) % 300
        return Frame(types[i % types.count], (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i) })
    }
}

private func encodeAll(_ frames: [Frame], mac: (Int) -> [UInt8] = { _ in [] }) -> [UInt8] {
    var bytes: [UInt8] = []
    for (i, frame) in frames.enumerated() { FrameCodec.encode(frame, mac: mac(i), into: &bytes) }
    return bytes
}

/// Takes every whole frame the decoder holds now.
private func drain(_ decoder: inout FrameDecoder) throws -> [Frame] {
    var frames: [Frame] = []
    while let (frame, _) = try decoder.next() { frames.append(frame) }
    return frames
}

/// A decoder error, or nil if `next()` returned normally.
private func nextError(_ decoder: inout FrameDecoder) -> WireError? {
    do {
        _ = try decoder.next()
        return nil
    } catch {
        return error
    }
}

@Suite struct FrameTests {
    @Test func encodeWritesLengthTypePayloadMAC() {
        var bytes: [UInt8] = [0xAA]  // encode appends, keeping what is there
        FrameCodec.encode(Frame(.request, [1, 2, 3]), mac: [9, 9], into: &bytes)
        #expect(bytes == [0xAA, 0, 0, 0, 6, 16, 1, 2, 3, 9, 9])
    }

    @Test func encodeThenDecode() throws {
        let frame = Frame(.response, Array("hello".utf8))
        var bytes: [UInt8] = []
        FrameCodec.encode(frame, into: &bytes)
        var decoder = FrameDecoder()
        decoder.append(bytes)
        let decoded = try #require(try decoder.next())
        #expect(decoded.frame == frame)
        #expect(decoded.mac.isEmpty)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func emptyPayloadDecodes() throws {
        var bytes: [UInt8] = []
        FrameCodec.encode(Frame(.hello, []), into: &bytes)
        #expect(bytes == [0, 0, 0, 1, 1])
        var decoder = FrameDecoder()
        decoder.append(bytes)
        #expect(try decoder.next()?.frame == Frame(.hello, []))
    }

    @Test func severalFramesOneByteAtATime() throws {
        let frames = sampleFrames(12)
        var decoder = FrameDecoder()
        var received: [Frame] = []
        for byte in encodeAll(frames) {
            decoder.append([byte])
            received += try drain(&decoder)
        }
        #expect(received == frames)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func framesFedWholeOneAtATime() throws {
        let frames = sampleFrames(12)
        var decoder = FrameDecoder()
        for frame in frames {
            var bytes: [UInt8] = []
            FrameCodec.encode(frame, into: &bytes)
            decoder.append(bytes)
            #expect(try decoder.next()?.frame == frame)
            #expect(try decoder.next() == nil)
        }
    }

    @Test func manyFramesInOneBuffer() throws {
        // The swift-nio way: one read may hold many frames; take them all.
        let frames = sampleFrames(50)
        var decoder = FrameDecoder()
        decoder.append(encodeAll(frames))
        #expect(try drain(&decoder) == frames)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func framesSplitAcrossIrregularPieces() throws {
        let frames = sampleFrames(40)
        let bytes = encodeAll(frames)
        var decoder = FrameDecoder()
        var received: [Frame] = []
        var offset = 0
        var step = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            decoder.append(bytes[offset..<end])
            received += try drain(&decoder)
            offset = end
            step = step % 97 + 13
        }
        #expect(received == frames)
    }

    @Test func partialFrameYieldsNilUntilComplete() throws {
        var bytes: [UInt8] = []
        let frame = Frame(.chunk, [UInt8](repeating: 5, count: 100))
        FrameCodec.encode(frame, into: &bytes)
        var decoder = FrameDecoder()
        for cut in [2, 4, 5, 50, bytes.count - 1] {
            decoder = FrameDecoder()
            decoder.append(bytes[..<cut])
            #expect(try decoder.next() == nil, "cut at \(cut)")
            #expect(decoder.bufferedCount == cut)
            #expect(try decoder.next() == nil, "asking again changes nothing")
            decoder.append(bytes[cut...])
            #expect(try decoder.next()?.frame == frame)
        }
    }

    @Test func oversizedLengthRefusedBeforeBody() {
        // Only the 4-byte header has arrived: the decoder must refuse at once
        // rather than wait for (and buffer) 4 KiB + 1 of body.
        var decoder = FrameDecoder()
        let length = FrameLimits.maxHandshakeFrameLength + 1
        decoder.append([0, 0, UInt8(length >> 8), UInt8(length & 0xFF)])
        #expect(nextError(&decoder) == .frameTooLarge(length: length, limit: FrameLimits.maxHandshakeFrameLength))

        var custom = FrameDecoder(maxLength: 100)
        custom.append([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(nextError(&custom) == .frameTooLarge(length: 0xFFFF_FFFF, limit: 100))
    }

    @Test func lengthAtTheLimitIsAccepted() throws {
        var decoder = FrameDecoder(maxLength: 10)
        var bytes: [UInt8] = []
        FrameCodec.encode(Frame(.request, [UInt8](repeating: 1, count: 9)), into: &bytes)
        decoder.append(bytes)
        #expect(try decoder.next()?.frame.payload.count == 9)
    }

    @Test func raisingTheLimitAfterTheHandshake() throws {
        let frame = Frame(.chunk, [UInt8](repeating: 3, count: FrameLimits.maxHandshakeFrameLength + 10))
        var bytes: [UInt8] = []
        FrameCodec.encode(frame, into: &bytes)
        var decoder = FrameDecoder()
        decoder.append(bytes)
        #expect(throws: WireError.self) { try decoder.next() }
        decoder.maxLength = FrameLimits.maxFrameLength
        #expect(try decoder.next()?.frame == frame)
    }

    @Test func unknownFrameTypeRefused() {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, 3, 99, 1, 2])
        #expect(nextError(&decoder) == .unknownFrameType(99))
        decoder = FrameDecoder()
        decoder.append([0, 0, 0, 1, 0])
        #expect(nextError(&decoder) == .unknownFrameType(0))
    }

    @Test func lengthTooSmallForTypeOrMAC() {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, 0])
        guard case .malformedFrame? = nextError(&decoder) else {
            Issue.record("a zero length must be malformed")
            return
        }
        // With a 32-byte MAC, 1 + 31 bytes cannot hold type and MAC; refused
        // from the header alone.
        var sealed = FrameDecoder(maxLength: FrameLimits.maxFrameLength)
        sealed.macLength = FrameLimits.macLength
        sealed.append([0, 0, 0, 32])
        guard case .malformedFrame? = nextError(&sealed) else {
            Issue.record("length 32 leaves no room for type and a 32-byte MAC")
            return
        }
    }

    @Test func macSplitFromPayload() throws {
        let mac = (0..<32).map { UInt8(200 + $0 % 50) }
        let frame = Frame(.request, [1, 2, 3, 4, 5])
        var bytes: [UInt8] = []
        FrameCodec.encode(frame, mac: mac, into: &bytes)
        var decoder = FrameDecoder(maxLength: FrameLimits.maxFrameLength)
        decoder.macLength = FrameLimits.macLength
        decoder.append(bytes)
        let decoded = try #require(try decoder.next())
        #expect(decoded.frame == frame)
        #expect(decoded.mac == mac)

        // An empty payload with a MAC: exactly 1 + 32 bytes long.
        var empty: [UInt8] = []
        FrameCodec.encode(Frame(.response, []), mac: mac, into: &empty)
        decoder.append(empty)
        let second = try #require(try decoder.next())
        #expect(second.frame == Frame(.response, []))
        #expect(second.mac == mac)
    }

    @Test func macFramesByteByByte() throws {
        let frames = sampleFrames(8)
        let macFor = { (i: Int) in [UInt8](repeating: UInt8(i), count: 32) }
        var decoder = FrameDecoder(maxLength: FrameLimits.maxFrameLength)
        decoder.macLength = 32
        var received: [(Frame, [UInt8])] = []
        for byte in encodeAll(frames, mac: macFor) {
            decoder.append(CollectionOfOne(byte))
            while let next = try decoder.next() { received.append(next) }
        }
        #expect(received.map(\.0) == frames)
        #expect(received.map(\.1) == (0..<8).map(macFor))
    }

    @Test func compactionKeepsPartialFrame() throws {
        // Well over 64 KiB in pieces that never align with frame boundaries,
        // so compaction runs while part of the next frame is still buffered.
        let frames = sampleFrames(400, payloadBase: 11).map { Frame($0.type, $0.payload + [UInt8](repeating: 0xEE, count: 700)) }
        let bytes = encodeAll(frames)
        #expect(bytes.count > 3 * (64 << 10))
        var decoder = FrameDecoder(maxLength: FrameLimits.maxFrameLength)
        var received: [Frame] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 7919)
            decoder.append(bytes[offset..<end])
            received += try drain(&decoder)
            offset = end
        }
        #expect(received == frames)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func compactionWhileDrainingOneLargeBuffer() throws {
        // All of it at once: compaction happens mid-drain with whole frames
        // still waiting behind the consumed prefix.
        let frames = sampleFrames(600).map { Frame($0.type, $0.payload + [UInt8](repeating: 0x11, count: 400)) }
        let bytes = encodeAll(frames)
        var decoder = FrameDecoder(maxLength: FrameLimits.maxFrameLength)
        decoder.append(bytes)
        #expect(try drain(&decoder) == frames)
        // And the decoder still works after it.
        decoder.append(encodeAll(Array(frames.prefix(3))))
        #expect(try drain(&decoder) == Array(frames.prefix(3)))
    }
}
