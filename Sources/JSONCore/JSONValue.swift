/// A parsed JSON document. Numbers keep their source text so that 64-bit integers (rlimits,
/// memory limits) decode exactly.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue], order: [String])

    public static func object(_ pairs: [(String, JSONValue)]) -> JSONValue {
        var dict: [String: JSONValue] = [:]
        var order: [String] = []
        for (key, value) in pairs {
            if dict.updateValue(value, forKey: key) == nil { order.append(key) }
        }
        return .object(dict, order: order)
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let dict, _) = self { return dict[key] }
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
