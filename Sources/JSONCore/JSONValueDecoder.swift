/// Decodes Decodable types from a JSONValue. Type errors carry the JSON path of the value,
/// which `JSONPath.describe` turns into `process.args[0]`.
public struct JSONValueDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }

    public func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decode(type, from: try JSONParser.parse(text))
    }
}

public enum JSONPath {
    /// `[process, args, 0]` -> `process.args[0]`.
    public static func describe(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let i = key.intValue {
                out += "[\(i)]"
            } else {
                if !out.isEmpty { out += "." }
                out += key.stringValue
            }
        }
        return out.isEmpty ? "(document)" : out
    }

    /// One line for a decoding failure: `process.args[1]: expected a string, found a number`.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else {
            if let e = error as? JSONParseError { return "invalid JSON at \(e)" }
            return "\(error)"
        }
        switch error {
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
            return "\(describe(ctx.codingPath)): \(ctx.debugDescription)"
        case .keyNotFound(let key, let ctx):
            return "\(describe(ctx.codingPath + [key])): is required"
        @unknown default:
            return "\(error)"
        }
    }
}

struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ i: Int) { intValue = i }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { return nil }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(value.kindName)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let dict, _) = value else { throw mismatch("an object") }
        return KeyedDecodingContainer(Keyed<Key>(dict: dict, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch("an array") }
        return Unkeyed(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }
}

private struct Single: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = decoder.value else { throw decoder.mismatch("a boolean") }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = decoder.value else { throw decoder.mismatch("a string") }
        return s
    }
    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let n) = decoder.value, let d = Double(n) else { throw decoder.mismatch("a number") }
        return d
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .number(let n) = decoder.value else { throw decoder.mismatch("an integer") }
        if let v = T(n) { return v }
        if let d = Double(n), d.rounded() == d, let v = T(exactly: d) { return v }
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath,
            debugDescription: "\(n) is not a valid \(T.self) (range \(T.min)...\(T.max))"))
    }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return decoder.value as! T }
        return try T(from: decoder)
    }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let dict: [String: JSONValue]
    let codingPath: [any CodingKey]
    var allKeys: [Key] { dict.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { dict[key.stringValue] != nil }
    func child(_ key: Key) throws -> ValueDecoder {
        guard let v = dict[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return ValueDecoder(value: v, codingPath: codingPath + [key])
    }
    func decodeNil(forKey key: Key) throws -> Bool { dict[key.stringValue] == nil || dict[key.stringValue] == .null }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try Single(decoder: child(key)).decode(type)
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Single(decoder: child(key)).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Single(decoder: child(key)).decode(type) }

    // Optional fields: absent or null decode as nil.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = dict[key.stringValue], v != .null else { return nil }
        return try Single(decoder: ValueDecoder(value: v, codingPath: codingPath + [key])).decode(type)
    }

    func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { ValueDecoder(value: .object(dict, order: []), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "array ended"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: items[currentIndex], codingPath: codingPath + [IndexKey(currentIndex)])
    }
    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, items[currentIndex] == .null { currentIndex += 1; return true }
        return false
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try Single(decoder: next()).decode(type) }
    mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}
