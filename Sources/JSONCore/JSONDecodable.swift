/// Types built straight from a JSONValue. Errors carry the JSON path of the value
/// (`process.args[1]: expected a string, found a number`).
///
/// This replaces Codable for the runtime's models: Codable's keyed containers instantiate
/// generic boxes and metadata per type at run time, which cost about 1 MB of peak RSS when
/// decoding a config; this mapping costs a fraction of that.
public protocol JSONDecodable {
    init(json: JSONValue, path: String) throws(JSONDecodeError)
}

public struct JSONDecodeError: Error, Equatable, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String

    public init(_ path: String, _ message: String) {
        // A key holding a NUL is written \u0000 in the path: a message stays one C string.
        let printable = path.containsNUL ? path.split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\u0000") : path
        self.path = printable.isEmpty ? "(document)" : printable
        self.message = message
    }

    public var description: String { "\(path): \(message)" }

    static func mismatch(_ value: JSONValue, _ expected: String, _ path: String) -> JSONDecodeError {
        JSONDecodeError(path, "expected \(expected), found \(value.kindName)")
    }
}

extension JSONValue {
    /// `path.key` for a member.
    @inlinable public static func member(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// Parses and builds a value in one step.
    public static func decode<T: JSONDecodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try T(json: try JSONParser.parse(bytes), path: "")
    }
}

/// The members of a JSON object, read by key with the path of each.
public struct JSONObject {
    public let members: JSONMembers
    public let path: String

    public init(_ value: JSONValue, path: String) throws(JSONDecodeError) {
        guard case .object(let m) = value else { throw .mismatch(value, "an object", path) }
        members = m
        self.path = path
    }

    /// The member, or nil when it is absent or null.
    @inlinable public func optional<T: JSONDecodable>(_ key: String) throws(JSONDecodeError) -> T? {
        guard let v = members[key], v != .null else { return nil }
        return try T(json: v, path: JSONValue.member(path, key))
    }

    @inlinable public func required<T: JSONDecodable>(_ key: String) throws(JSONDecodeError) -> T {
        guard let v = members[key], v != .null else { throw JSONDecodeError(JSONValue.member(path, key), "is required") }
        return try T(json: v, path: JSONValue.member(path, key))
    }
}

/// Every string the models decode reaches a system call or a file sooner or later, where a NUL
/// byte (`\u0000`) would end it early: `"/decoy\u0000x"` is `/decoy` to mkdir. So a NUL is
/// a decoding error naming the field, in values and in the keys of maps (sysctl, unified).
/// Members the models do not read (unknown fields) are not looked at.
public let nulInStringMessage = "contains a NUL byte (\\u0000), which would cut the string short at the system call"

extension String {
    /// Whether the string holds a NUL byte. (Over the contiguous UTF-8 of a native string: the
    /// generic UTF8View sequence code costs start-up pages.)
    @inlinable public var containsNUL: Bool {
        var copy = self
        return copy.withUTF8 { bytes in
            for b in bytes where b == 0 { return true }
            return false
        }
    }
}

extension String: JSONDecodable {
    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        guard case .string(let s) = json else { throw .mismatch(json, "a string", path) }
        if s.containsNUL { throw JSONDecodeError(path, nulInStringMessage) }
        self = s
    }
}

extension Bool: JSONDecodable {
    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        guard case .bool(let b) = json else { throw .mismatch(json, "a boolean", path) }
        self = b
    }
}

extension Double: JSONDecodable {
    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        guard case .number(let n) = json, let d = Double(n) else { throw .mismatch(json, "a number", path) }
        self = d
    }
}

/// Integers keep the exact source text, so 64-bit values (rlimits) are exact; out of range is
/// an error that names the range.
func decodeInteger<T: FixedWidthInteger>(_ json: JSONValue, _ path: String) throws(JSONDecodeError) -> T {
    guard case .number(let n) = json else { throw .mismatch(json, "an integer", path) }
    if let v: T = parseDecimal(n) { return v }
    if let d = Double(n), d.rounded() == d, let v = T(exactly: d) { return v }
    throw JSONDecodeError(path, "\(n) is not a valid \(T.self) (range \(T.min)...\(T.max))")
}

/// A plain decimal integer ("-12", "18446744073709551615"), nil when it has a fraction or
/// exponent or does not fit. (The stdlib's generic parser costs startup pages; this is all a
/// config needs.)
func parseDecimal<T: FixedWidthInteger>(_ text: String) -> T? {
    var utf8 = text.utf8[...]
    let negative = utf8.first == UInt8(ascii: "-")
    if negative { utf8 = utf8.dropFirst() }
    guard !utf8.isEmpty else { return nil }
    var value: T = 0
    for byte in utf8 {
        guard byte >= 0x30, byte <= 0x39 else { return nil }
        let digit = T(truncatingIfNeeded: byte &- 0x30)
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
        if o1 || o2 { return nil }
        value = next
    }
    return value
}

extension Int: JSONDecodable { public init(json: JSONValue, path: String) throws(JSONDecodeError) { self = try decodeInteger(json, path) } }
extension Int32: JSONDecodable { public init(json: JSONValue, path: String) throws(JSONDecodeError) { self = try decodeInteger(json, path) } }
extension Int64: JSONDecodable { public init(json: JSONValue, path: String) throws(JSONDecodeError) { self = try decodeInteger(json, path) } }
extension UInt16: JSONDecodable { public init(json: JSONValue, path: String) throws(JSONDecodeError) { self = try decodeInteger(json, path) } }
extension UInt32: JSONDecodable { public init(json: JSONValue, path: String) throws(JSONDecodeError) { self = try decodeInteger(json, path) } }
extension UInt64: JSONDecodable { public init(json: JSONValue, path: String) throws(JSONDecodeError) { self = try decodeInteger(json, path) } }

extension Array: JSONDecodable where Element: JSONDecodable {
    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        guard case .array(let items) = json else { throw .mismatch(json, "an array", path) }
        var out: [Element] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { out.append(try Element(json: item, path: path + "[\(i)]")) }
        self = out
    }
}

extension Dictionary: JSONDecodable where Key == String, Value: JSONDecodable {
    public init(json: JSONValue, path: String) throws(JSONDecodeError) {
        guard case .object(let members) = json else { throw .mismatch(json, "an object", path) }
        var out: [String: Value] = [:]
        out.reserveCapacity(members.pairs.count)
        for (k, v) in members.pairs {
            if k.containsNUL { throw JSONDecodeError(JSONValue.member(path, k), "the key " + nulInStringMessage) }
            out[k] = try Value(json: v, path: JSONValue.member(path, k))
        }
        self = out
    }
}

extension JSONValue: JSONDecodable {
    public init(json: JSONValue, path: String) throws(JSONDecodeError) { self = json }
}
