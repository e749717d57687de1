import NymbusCrypto
import NymbusWire

/// One reading from a temperature/humidity sensor: the custom type this example sends over Nymbus.
///
/// Any Swift type travels over the bus once it can turn itself into bytes and back: conform to
/// `WireCodable`, write the fields with `ByteWriter`, read them back with `ByteReader`. The bytes
/// come from strangers (every member of a topic can post), so the decoder is strict: every length
/// and every number is checked against a limit *before* anything is allocated or believed, and
/// anything off is a thrown `WireError`, never a crash.
///
/// Wire format, version 1 (big-endian):
///
/// | size | field | limit |
/// |---|---|---|
/// | 1 | format version | exactly 1 |
/// | 1 + n | sensor id, u8 length + UTF-8 | 1…32 bytes of `a-z 0-9 - _ .` |
/// | 8 | taken at, milliseconds since 1970 (u64) | ≤ year 9999 |
/// | 4 | temperature, milli-°C (two's complement i32) | −90 000 … 60 000 |
/// | 2 | relative humidity, per mille (u16) | 0 … 1000 |
/// | 1 + 4k | recent temperatures: u8 count + k × i32 milli-°C | k ≤ 16, each in range |
struct SensorReading: WireCodable, Equatable, Sendable {
    /// This type's id on the wire. Nymbus reserves ids below 0x1000; pick any other stable value.
    static let wireTypeID: UInt32 = 0x5E45_0001
    /// The only format this decoder reads.
    static let formatVersion: UInt8 = 1
    /// Longest sensor id, in bytes.
    static let maxSensorIDLength = 32
    /// Coldest and hottest plausible reading, in milli-°C (Earth's records are −89.2 and 56.7 °C).
    static let temperatureRange: ClosedRange<Int32> = -90_000...60_000
    /// Largest humidity value (100.0 %).
    static let maxHumidityPermille: UInt16 = 1000
    /// Most recent temperatures carried in one reading.
    static let maxRecent = 16
    /// Latest timestamp accepted: 9999-12-31T23:59:59.999Z.
    static let maxTimestampMilliseconds: UInt64 = 253_402_300_799_999

    /// Which sensor this is, e.g. `kitchen-1`.
    var sensorID: String
    /// When it was measured, milliseconds since 1970-01-01 UTC.
    var takenAtMilliseconds: UInt64
    /// Temperature in thousandths of a degree Celsius (integers: no float encoding questions).
    var milliCelsius: Int32
    /// Relative humidity in tenths of a percent.
    var humidityPermille: UInt16
    /// The temperatures measured since the last reading, oldest first.
    var recentMilliCelsius: [Int32]

    /// A reading; `validate()` tells whether it is within the limits the decoder enforces.
    init(
        sensorID: String, takenAtMilliseconds: UInt64, milliCelsius: Int32, humidityPermille: UInt16,
        recentMilliCelsius: [Int32] = []
    ) {
        self.sensorID = sensorID
        self.takenAtMilliseconds = takenAtMilliseconds
        self.milliCelsius = milliCelsius
        self.humidityPermille = humidityPermille
        self.recentMilliCelsius = recentMilliCelsius
    }

    /// Throws the error a receiver would throw for this value, so a publisher never sends a
    /// reading every subscriber would refuse.
    func validate() throws(WireError) {
        try Self.checkSensorID(Array(sensorID.utf8))
        try Self.checkTimestamp(takenAtMilliseconds)
        try Self.checkTemperature(milliCelsius)
        try Self.checkHumidity(humidityPermille)
        guard recentMilliCelsius.count <= Self.maxRecent else {
            throw WireError(.lengthOverLimit, "recent temperatures: \(recentMilliCelsius.count) over the limit \(Self.maxRecent)")
        }
        for value in recentMilliCelsius { try Self.checkTemperature(value) }
    }

    // MARK: WireCodable

    /// Appends the version-1 bytes. Call `validate()` first: writing does not check limits.
    func serialize(into writer: inout ByteWriter) {
        writer.write(Self.formatVersion)
        writer.writeShortString(sensorID)
        writer.write(takenAtMilliseconds)
        writer.write(UInt32(bitPattern: milliCelsius))
        writer.write(humidityPermille)
        writer.write(UInt8(truncatingIfNeeded: recentMilliCelsius.count))
        for value in recentMilliCelsius { writer.write(UInt32(bitPattern: value)) }
    }

    /// Reads a version-1 reading, refusing anything outside the table's limits.
    init(from reader: inout ByteReader) throws(WireError) {
        let version = try reader.readUInt8("format version")
        guard version == Self.formatVersion else {
            throw WireError(.unsupportedVersion, "format version \(version); this program reads version \(Self.formatVersion)")
        }
        // readShortBytes checks the length byte against the limit before reading the bytes.
        let idBytes = try reader.readShortBytes(limit: Self.maxSensorIDLength, "sensor id")
        try Self.checkSensorID(idBytes)
        sensorID = String(decoding: idBytes, as: UTF8.self)  // checked: ASCII only
        takenAtMilliseconds = try reader.readUInt64("timestamp")
        try Self.checkTimestamp(takenAtMilliseconds)
        milliCelsius = Int32(bitPattern: try reader.readUInt32("temperature"))
        try Self.checkTemperature(milliCelsius)
        humidityPermille = try reader.readUInt16("humidity")
        try Self.checkHumidity(humidityPermille)
        let count = Int(try reader.readUInt8("recent count"))
        // The count is checked against the limit and against the bytes present before reserving.
        try reader.checkCount(count, limit: Self.maxRecent, minItemSize: 4, "recent temperatures")
        var recent: [Int32] = []
        recent.reserveCapacity(count)
        for _ in 0..<count {
            let value = Int32(bitPattern: try reader.readUInt32("recent temperature"))
            try Self.checkTemperature(value)
            recent.append(value)
        }
        recentMilliCelsius = recent
    }

    // MARK: Limits

    private static func checkSensorID(_ bytes: [UInt8]) throws(WireError) {
        guard (1...maxSensorIDLength).contains(bytes.count) else {
            throw WireError(.lengthOverLimit, "sensor id has \(bytes.count) bytes; 1 to \(maxSensorIDLength) allowed")
        }
        // A small alphabet keeps ids printable: a payload cannot smuggle terminal escape codes.
        for byte in bytes {
            let allowed = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            guard allowed else {
                throw WireError(.invalidValue, "sensor id may only hold a-z, 0-9, '-', '_' and '.'")
            }
        }
    }

    private static func checkTimestamp(_ milliseconds: UInt64) throws(WireError) {
        guard milliseconds <= maxTimestampMilliseconds else {
            throw WireError(.invalidValue, "timestamp \(milliseconds) ms is after the year 9999")
        }
    }

    private static func checkTemperature(_ value: Int32) throws(WireError) {
        guard temperatureRange.contains(value) else {
            throw WireError(.invalidValue, "temperature \(value) m°C is outside \(temperatureRange.lowerBound)...\(temperatureRange.upperBound)")
        }
    }

    private static func checkHumidity(_ value: UInt16) throws(WireError) {
        guard value <= maxHumidityPermille else {
            throw WireError(.invalidValue, "humidity \(value) ‰ is over \(maxHumidityPermille)")
        }
    }
}

extension SensorReading {
    /// One line for people: `kitchen-1 at 1700000000000 ms: 21.500 °C, 40.5 % humidity, recent [21.000 21.250]`.
    ///
    /// Numbers are formatted with integer arithmetic, so the output is the same in every locale.
    var summary: String {
        let recent = recentMilliCelsius.isEmpty ? "" : ", recent [\(recentMilliCelsius.map(Self.celsiusText).joined(separator: " "))]"
        return "\(sensorID) at \(takenAtMilliseconds) ms: \(Self.celsiusText(milliCelsius)) °C, "
            + "\(humidityPermille / 10).\(humidityPermille % 10) % humidity\(recent)"
    }

    /// `-1.250` for −1250 m°C.
    static func celsiusText(_ milli: Int32) -> String {
        let magnitude = Int(milli).magnitude
        let fraction = String(magnitude % 1000)
        return (milli < 0 ? "-" : "") + "\(magnitude / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
