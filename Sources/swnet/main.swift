import Glibc

var environment: [String: String] = [:]
var p = environ
while let entry = p.pointee {
    let s = String(cString: entry)
    if let eq = s.firstIndex(of: "=") { environment[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
    p += 1
}
exit(SwnetMain.main(CommandLine.arguments, environment: environment))
