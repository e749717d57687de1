import NymClient
import NymbusCrypto
import NymbusTransport

/// Shared test values.
enum Fixtures {
    /// The example address from nym's `requests.rs` tests (NYM-CLIENT.md §4).
    static let addressString =
        "CytBseW6yFXUMzz4SGAKdNLGR7q3sJLLYxyBGvutNEQV.4QXYyEVc5fUDjmmi8PrHN9tdUFV4PCvSJE1278cHyvoe@4sBbL1ngf1vtNqykydQKTFh26sQCw888GpUqvPvyNB4f"

    static var recipient: Recipient { try! Recipient(string: addressString) }

    /// A fixed 16-byte tag 0x10...0x1f.
    static var tag: SenderTag { try! SenderTag(bytes: Array(0x10...0x1f)) }

    /// Big-endian u64.
    static func be64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }
    /// Big-endian u32.
    static func be32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32($0))) } }

    /// 32 bytes that are not a valid Ed25519 point (y = 2 is not on the curve).
    static let badPoint: [UInt8] = [2] + [UInt8](repeating: 0, count: 31)

}
