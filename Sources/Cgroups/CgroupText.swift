extension String {
    /// Without the trailing `set` characters and spaces (a control file's "1048576\n").
    package func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.last == set || s.last == " " { s.removeLast() }
        return String(s)
    }
}
