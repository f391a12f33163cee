import JSONCore
import Testing

@Suite struct JSONParserTests {
    @Test func parsesNestedDocuments() throws {
        let v = try JSONParser.parse(#"{"a": [1, -2.5e3, "x\n\u00e9\ud83d\ude00", true, null], "b": {}}"#)
        #expect(v["a"] == .array([.number("1"), .number("-2.5e3"), .string("x\né😀"), .bool(true), .null]))
        #expect(v["b"] == .object(JSONMembers()))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "\"abc", "tru", "{\"a\":1} x", "\"\u{1}\""])
    func rejectsMalformed(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func reportsLineAndColumn() {
        do {
            _ = try JSONParser.parse("{\n  \"a\": [1,\n  }")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 3)
        }
    }

    @Test func keepsLargeIntegersExact() throws {
        struct R: JSONDecodable {
            var hard: UInt64, soft: Int64
            init(json: JSONValue, path: String) throws(JSONDecodeError) {
                let o = try JSONObject(json, path: path)
                hard = try o.required("hard")
                soft = try o.required("soft")
            }
        }
        let r = try JSONValue.decode(R.self, from: Array(#"{"hard": 18446744073709551615, "soft": -9223372036854775808}"#.utf8))
        #expect(r.hard == UInt64.max)
        #expect(r.soft == Int64.min)
    }

    @Test func serializesRoundTrip() throws {
        let text = #"{"a":[1,"q\"\\\n",false],"b":null}"#
        #expect(try JSONParser.parse(text).serialized() == text)
    }

    /// Strings with nothing to escape are copied whole; any quote, backslash or control
    /// character still takes the escaping path.
    @Test(arguments: [
        ("plain/é ☃ key", #""plain/é ☃ key""#),
        ("", #""""#),
        ("a\"b", #""a\"b""#),
        ("back\\slash", #""back\\slash""#),
        ("tab\tnl\ncr\r", #""tab\tnl\ncr\r""#),
        ("bell\u{7}nul\u{0}", #""bell\u0007nul\u0000""#),
    ])
    func writesStringsEscapedOnlyWhereNeeded(_ raw: String, _ written: String) throws {
        #expect(JSONValue.string(raw).serialized() == written)
        #expect(try JSONParser.parse(written) == .string(raw))
    }
}

@Suite struct JSONDecoderPathTests {
    struct Doc: JSONDecodable {
        var process: P
        init(json: JSONValue, path: String) throws(JSONDecodeError) { process = try JSONObject(json, path: path).required("process") }
    }
    struct P: JSONDecodable {
        var args: [String], uid: UInt32?
        init(json: JSONValue, path: String) throws(JSONDecodeError) {
            let o = try JSONObject(json, path: path)
            args = try o.required("args")
            uid = try o.optional("uid")
        }
    }

    func message(_ text: String) -> String {
        do {
            _ = try JSONValue.decode(Doc.self, from: Array(text.utf8))
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func typeMismatchNamesThePath() {
        #expect(message(#"{"process": {"args": ["sh", 3]}}"#) == "process.args[1]: expected a string, found a number")
    }

    @Test func missingKeyNamesThePath() {
        #expect(message(#"{"process": {}}"#) == "process.args: is required")
    }

    @Test func outOfRangeIntegerNamesThePath() {
        #expect(message(#"{"process": {"args": [], "uid": -1}}"#).hasPrefix("process.uid: -1 is not a valid UInt32"))
    }

    @Test func wrongContainerKindsAndNull() {
        #expect(message(#"{"process": []}"#) == "process: expected an object, found an array")
        #expect(message(#"{"process": {"args": "sh"}}"#) == "process.args: expected an array, found a string")
        #expect(message(#"{"process": {"args": [], "uid": null}}"#) == "no error")
        #expect(message(#"[]"#) == "(document): expected an object, found an array")
    }
}
