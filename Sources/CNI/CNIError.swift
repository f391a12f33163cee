import JSONCore

/// The CNI spec's error, printed as its error JSON on stdout with a non-zero exit.
public struct CNIError: Error, CustomStringConvertible, Sendable {
    public enum Code: Int, Sendable {
        case incompatibleVersion = 1, unsupportedField = 2, unknownContainer = 3, invalidEnvironment = 4
        case ioFailure = 5, decodingFailure = 6, invalidConfig = 7, tryAgainLater = 11
        case notAvailable = 50, limitedConnectivity = 51
        // Plugin-specific (100+).
        case internalError = 100, rangeExhausted = 101, netlink = 102, interfaceExists = 103, addressUnavailable = 104
    }

    public let code: Code
    public let msg: String
    public let details: String

    public init(_ code: Code, _ msg: String, _ details: String = "") {
        self.code = code
        self.msg = msg
        self.details = details
    }

    public var description: String { details.isEmpty ? msg : "\(msg): \(details)" }

    public func json(version: String) -> String {
        var pairs: [(String, JSONValue)] = [("cniVersion", .string(version)), ("code", .number("\(code.rawValue)")), ("msg", .string(msg))]
        if !details.isEmpty { pairs.append(("details", .string(details))) }
        return JSONValue.object(pairs).serialized()
    }
}
