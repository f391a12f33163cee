/// A flag a command accepts. Names are given without dashes; the first is canonical.
public struct FlagSpec: Sendable {
    public let names: [String]
    public let takesValue: Bool
    public let help: String

    public init(_ names: [String], value: Bool = false, help: String) {
        self.names = names
        self.takesValue = value
        self.help = help
    }

    public var name: String { names[0] }
}

public struct ParsedArguments: Sendable {
    /// Every value given for a flag, in order (`--env A --env B`).
    public var values: [String: [String]] = [:]
    public var flags: Set<String> = []
    public var positionals: [String] = []

    /// The last value given for a flag.
    public func value(_ name: String) -> String? { values[name]?.last }
    public func all(_ name: String) -> [String] { values[name] ?? [] }
    public func has(_ name: String) -> Bool { flags.contains(name) }

    /// `other`'s values and flags added to these.
    public func merging(_ other: ParsedArguments) -> ParsedArguments {
        var out = self
        out.values.merge(other.values) { $0 + $1 }
        out.flags.formUnion(other.flags)
        return out
    }
}

public enum CommandLineError: Error, Equatable, CustomStringConvertible {
    case unknownFlag(String, command: String)
    case missingValue(String)
    case badBool(String, String)
    case bad(String)

    public var description: String {
        switch self {
        // command "" (the global flags): the program's prefix alone says who complains.
        case .unknownFlag(let f, let c): return (c.isEmpty ? "" : "\(c): ") + "flag provided but not defined: \(f)"
        case .missingValue(let f): return "flag needs an argument: \(f)"
        case .badBool(let f, let v): return "invalid boolean value \"\(v)\" for \(f)"
        case .bad(let m): return m
        }
    }
}

/// Parses flags the way runc's CLI (urfave/cli over Go's flag package) does, so every argv an
/// orchestrator sends means the same here: `--flag value`, `--flag=value`, single-dash long
/// flags (`-bundle`), short aliases (`-b`), `--bool=true|false`, and `--` to end flags.
public enum CommandLineParser {
    /// Parses `args`. With `stopAtFirstPositional`, everything from the first positional
    /// argument on is positional (exec's command); otherwise flags may follow positionals.
    public static func parse(_ args: ArraySlice<String>, specs: [FlagSpec], command: String,
                             stopAtFirstPositional: Bool = false) throws(CommandLineError) -> ParsedArguments {
        var out = ParsedArguments()
        var i = args.startIndex
        var onlyPositionals = false
        while i < args.endIndex {
            let arg = args[i]
            i += 1
            if onlyPositionals || arg == "-" || !arg.hasPrefix("-") {
                out.positionals.append(arg)
                if stopAtFirstPositional { onlyPositionals = true }
                continue
            }
            if arg == "--" { onlyPositionals = true; continue }
            let body = arg.hasPrefix("--") ? arg.dropFirst(2) : arg.dropFirst(1)
            let name: Substring
            var inline: String?
            if let eq = body.firstIndex(of: "=") {
                name = body[..<eq]
                inline = String(body[body.index(after: eq)...])
            } else {
                name = body
            }
            guard let spec = specs.first(where: { $0.names.contains(String(name)) }) else {
                throw .unknownFlag(arg, command: command)
            }
            if spec.takesValue {
                if let inline {
                    out.values[spec.name, default: []].append(inline)
                } else {
                    guard i < args.endIndex else { throw .missingValue(arg) }
                    out.values[spec.name, default: []].append(args[i])
                    i += 1
                }
            } else {
                switch inline {
                case nil, "true", "1": out.flags.insert(spec.name)
                case "false", "0": out.flags.remove(spec.name)
                default: throw .badBool(arg, inline!)
                }
            }
        }
        return out
    }

    /// The index of the first positional argument (the subcommand), skipping global flags and
    /// their values.
    public static func subcommandIndex(_ args: ArraySlice<String>, globals: [FlagSpec]) -> Int? {
        var i = args.startIndex
        while i < args.endIndex {
            let arg = args[i]
            if !arg.hasPrefix("-") || arg == "-" { return i }
            if arg == "--" { return i + 1 < args.endIndex ? i + 1 : nil }
            let body = arg.hasPrefix("--") ? arg.dropFirst(2) : arg.dropFirst(1)
            if !body.contains("="), let spec = globals.first(where: { $0.names.contains(String(body)) }), spec.takesValue {
                i += 1
            }
            i += 1
        }
        return nil
    }
}
