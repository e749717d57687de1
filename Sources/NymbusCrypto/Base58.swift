/// Base58 with the Bitcoin alphabet, as Nym (the `bs58` crate) uses for addresses and tags.
public enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    private static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    /// Longest input `decode` accepts; Nym strings are far shorter and this bounds the work.
    public static let maxDecodeLength = 1024

    /// Encodes bytes; each leading zero byte becomes a leading `1`.
    public static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix(while: { $0 == 0 }).count
        // log(256)/log(58) ≈ 1.366, so this many base58 digits always suffice.
        var digits = [UInt8](repeating: 0, count: (bytes.count - zeros) * 138 / 100 + 1)
        var length = 0
        for byte in bytes[zeros...] {
            var carry = Int(byte)
            var i = 0
            while i < length || carry != 0 {
                carry += 256 * Int(digits[i])
                digits[i] = UInt8(carry % 58)
                carry /= 58
                i += 1
            }
            length = i
        }
        var out = [UInt8](repeating: alphabet[0], count: zeros)
        out.reserveCapacity(zeros + length)
        for i in stride(from: length - 1, through: 0, by: -1) { out.append(alphabet[Int(digits[i])]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes a base58 string; each leading `1` becomes a leading zero byte.
    public static func decode(_ string: String) throws(CryptoError) -> [UInt8] {
        let chars = Array(string.utf8)
        guard chars.count <= maxDecodeLength else {
            throw CryptoError(.invalidBase58, "base58 string longer than \(maxDecodeLength) characters")
        }
        let ones = chars.prefix(while: { $0 == alphabet[0] }).count
        var bytes = [UInt8](repeating: 0, count: (chars.count - ones) * 733 / 1000 + 1)
        var length = 0
        for (position, c) in chars.enumerated() {
            guard c < 128, decodeTable[Int(c)] >= 0 else {
                throw CryptoError(.invalidBase58, "invalid base58 character at position \(position)")
            }
            guard position >= ones else { continue }
            var carry = Int(decodeTable[Int(c)])
            var i = 0
            while i < length || carry != 0 {
                carry += 58 * Int(bytes[i])
                bytes[i] = UInt8(carry & 0xff)
                carry >>= 8
                i += 1
            }
            length = i
        }
        var out = [UInt8](repeating: 0, count: ones)
        out.reserveCapacity(ones + length)
        for i in stride(from: length - 1, through: 0, by: -1) { out.append(bytes[i]) }
        return out
    }
}

/// Lower-case hexadecimal, for logs, vectors and invite strings.
public enum Hex {
    /// Encodes bytes as lower-case hex.
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex (either case); whitespace is not allowed.
    public static func decode(_ string: String) throws(CryptoError) -> [UInt8] {
        let chars = Array(string.utf8)
        guard chars.count % 2 == 0 else { throw CryptoError(.invalidLength, "hex string has an odd length") }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else {
                throw CryptoError(.invalidLength, "invalid hex character at position \(i)")
            }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
