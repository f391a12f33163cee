import Glibc

/// Messages for the user: one line each on stderr, prefixed with the program name.
enum Diagnostics {
    static func error(_ lines: [String]) {
        for line in lines { write(2, "crun-swift: \(line)\n") }
    }

    static func warning(_ line: String) {
        write(2, "crun-swift: warning: \(line)\n")
    }

    static func print(_ text: String) {
        write(1, text)
    }

    private static func write(_ fd: Int32, _ s: String) {
        var s = s
        s.withUTF8 { buf in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
                off += n
            }
        }
    }
}
