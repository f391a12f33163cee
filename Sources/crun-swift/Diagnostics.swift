import Glibc

/// One line per message on stderr, prefixed with the program name.
enum Diagnostics {
    static func error(_ lines: [String]) {
        for line in lines { write("crun-swift: \(line)\n") }
    }

    static func warning(_ line: String) {
        write("crun-swift: warning: \(line)\n")
    }

    private static func write(_ s: String) {
        var s = s
        s.withUTF8 { buf in _ = Glibc.write(2, buf.baseAddress, buf.count) }
    }
}
