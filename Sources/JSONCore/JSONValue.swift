/// A parsed JSON document. Numbers keep their source text so that 64-bit integers (rlimits,
/// memory limits) decode exactly.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONMembers)

    public static func object(_ pairs: [(String, JSONValue)]) -> JSONValue {
        .object(JSONMembers(merging: pairs.map { (key: $0.0, value: $0.1) }))
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// What the value is, as error messages name it.
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// The members of an object, in document order. Config objects have a handful of keys, so a
/// linear lookup is as fast as hashing and keeps hashing code out of the runtime's start
/// (peak RSS). A repeated key: the last one wins, at the place of the first.
public struct JSONMembers: Equatable, Sendable {
    public private(set) var pairs: [(key: String, value: JSONValue)] = []

    public init() {}

    /// Members from pairs in document order; a repeated key replaces the earlier value, in
    /// time linear in the number of pairs. Small objects (every object of a normal config)
    /// find repeats by a linear scan; larger ones through an open-addressing table of
    /// positions keyed by an FNV-1a hash of the key's bytes, so 100,000 annotations or sysctl
    /// keys parse at once (twice as fast as the stdlib's SipHash here). Keys made to collide
    /// (a probe run past `maxProbes`) switch to a Dictionary, whose hash is seeded per process.
    public init(merging raw: [(key: String, value: JSONValue)]) {
        guard raw.count > JSONMembers.scannedUpTo else {
            pairs.reserveCapacity(raw.count)
            for (key, value) in raw { self[key] = value }
            return
        }
        var size = 64
        while size < raw.count * 2 { size <<= 1 }
        let mask = size - 1
        var slots = [Int32](repeating: -1, count: size)   // index into pairs, -1: empty
        pairs.reserveCapacity(raw.count)
        for (key, value) in raw {
            var slot = Int(truncatingIfNeeded: JSONMembers.fnv1a(key)) & mask
            var probes = 0
            while true {
                let i = Int(slots[slot])
                if i < 0 {
                    slots[slot] = Int32(pairs.count)
                    pairs.append((key, value))
                    break
                }
                if pairs[i].key == key {
                    pairs[i].value = value
                    break
                }
                probes += 1
                if probes > JSONMembers.maxProbes {
                    self = JSONMembers(mergingThroughDictionary: raw)
                    return
                }
                slot = (slot + 1) & mask
            }
        }
    }

    private init(mergingThroughDictionary raw: [(key: String, value: JSONValue)]) {
        var positions: [String: Int] = [:]
        positions.reserveCapacity(raw.count)
        pairs.reserveCapacity(raw.count)
        for (key, value) in raw {
            if let i = positions[key] { pairs[i].value = value } else {
                positions[key] = pairs.count
                pairs.append((key, value))
            }
        }
    }

    static let scannedUpTo = 32
    static let maxProbes = 64

    static func fnv1a(_ key: String) -> UInt64 {
        var key = key
        return key.withUTF8 { bytes in
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return h
        }
    }

    public var isEmpty: Bool { pairs.isEmpty }
    public var keys: [String] { pairs.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get { pairs.first { $0.key == key }?.value }
        set {
            if let i = pairs.firstIndex(where: { $0.key == key }) {
                if let newValue { pairs[i].value = newValue } else { pairs.remove(at: i) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    public static func == (a: JSONMembers, b: JSONMembers) -> Bool {
        a.pairs.count == b.pairs.count && zip(a.pairs, b.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
