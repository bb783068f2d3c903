//! The fast path for the common feature: a Point geometry and flat properties.
//!
//! Residence files hold millions of features of one simple shape:
//! `{"type":"Feature","properties":{"id":"r1","population":12},"geometry":{"type":"Point",
//! "coordinates":[24.94,60.17]}}`. [`parse`] reads exactly that shape, members in any order and
//! whitespace anywhere, in one pass over the bytes. It gives up (returns `None`) on anything
//! else, and the caller then parses the feature with `serde_json`, which handles every other
//! shape and reports every error. Giving up is always safe: the fast path only accepts a
//! feature when it can produce the very values the general path would.
//!
//! It gives up on: a string with an escape or a control character; a property, `id` or member
//! value that is an array or object (other than `properties` and a Point `geometry`); a member
//! other than `type`, `id`, `properties` and `geometry`; a geometry that is not a Point with
//! exactly two non-integer coordinates; any syntax error.

use super::RawJson;

/// The members of a feature read by the fast path.
pub(super) struct Simple<'a> {
    /// The `type` member.
    pub kind: Option<&'a str>,
    /// The `id` member.
    pub id: Option<RawJson<'a>>,
    /// The Point's `[longitude, latitude]`; `None` when there is no `geometry` member.
    pub point: Option<(f64, f64)>,
}

/// Read a feature of the simple shape, filling `props[i]` with the raw value of property
/// `wanted[i]`. `None` when the feature has another shape (`props` may then be partly filled).
pub(super) fn parse<'a>(
    text: &'a str,
    wanted: &[&str],
    props: &mut [Option<RawJson<'a>>],
) -> Option<Simple<'a>> {
    let mut c = Cursor { text, at: 0 };
    let mut simple = Simple {
        kind: None,
        id: None,
        point: None,
    };
    c.expect(b'{')?;
    loop {
        let key = c.string()?;
        c.expect(b':')?;
        match key {
            "type" => simple.kind = Some(c.string()?),
            "id" => simple.id = Some(c.scalar()?),
            "properties" => c.properties(wanted, props)?,
            "geometry" => simple.point = Some(c.point()?),
            _ => return None,
        }
        if !c.list_continues(b'}')? {
            break;
        }
    }
    c.skip_ws();
    (c.at == text.len()).then_some(simple)
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes().get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.at).copied()
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// After a member or element: true on `,`, false on `close`.
    fn list_continues(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.at += 1;
                Some(true)
            }
            b if b == close => {
                self.at += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A string without escapes or control characters; its text between the quotes.
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let end = string_stop(self.bytes(), start)?;
        if self.bytes()[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        // Both ends are ASCII quotes, so the slice lies on character boundaries.
        Some(&self.text[start..end])
    }

    /// A JSON number (RFC 8259 grammar), as its text.
    fn number(&mut self) -> Option<&'a str> {
        self.decimal().map(|d| d.text)
    }

    /// A JSON number, as its text and, when it has at most 19 significant digits and no
    /// exponent, as `digits / 10^scale`.
    fn decimal(&mut self) -> Option<Decimal<'a>> {
        self.skip_ws();
        let start = self.at;
        let bytes = self.bytes();
        let mut at = start;
        let mut digits: u64 = 0;
        let mut count = 0usize;
        let mut run = |at: &mut usize| {
            let from = *at;
            while let Some(&b) = bytes.get(*at).filter(|b| b.is_ascii_digit()) {
                digits = digits.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
                *at += 1;
            }
            count += *at - from;
            *at > from
        };
        let negative = bytes.get(at) == Some(&b'-');
        at += usize::from(negative);
        match bytes.get(at)? {
            b'0' => at += 1,
            b'1'..=b'9' => {
                run(&mut at);
            }
            _ => return None,
        }
        let mut scale = None;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            let before = at;
            if !run(&mut at) {
                return None;
            }
            scale = Some(at - before);
        }
        let mut exponent = false;
        if let Some(b'e' | b'E') = bytes.get(at) {
            exponent = true;
            at += 1;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            let from = at;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == from {
                return None;
            }
        }
        self.at = at;
        Some(Decimal {
            text: &self.text[start..at],
            exact: (!exponent && count <= 19).then_some((negative, digits, scale.unwrap_or(0))),
            integer: scale.is_none() && !exponent,
        })
    }

    /// A string, number, `true`, `false` or `null`, as its JSON text.
    fn scalar(&mut self) -> Option<RawJson<'a>> {
        let start = match self.peek()? {
            b'"' => {
                let start = self.at;
                self.string()?;
                start
            }
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                self.number()?;
                start
            }
            _ => {
                let start = self.at;
                let rest = &self.bytes()[start..];
                let word = [&b"true"[..], b"false", b"null"]
                    .into_iter()
                    .find(|w| rest.starts_with(w))?;
                self.at += word.len();
                start
            }
        };
        Some(RawJson::new(&self.text[start..self.at]))
    }

    /// `null`, or an object of scalars; the wanted ones go to `props`.
    fn properties(&mut self, wanted: &[&str], props: &mut [Option<RawJson<'a>>]) -> Option<()> {
        if self.peek()? == b'n' {
            return (self.scalar()?.get() == "null").then_some(());
        }
        self.expect(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            let value = self.scalar()?;
            if let Some(i) = wanted.iter().position(|w| *w == key) {
                props[i] = Some(value);
            }
            if !self.list_continues(b'}')? {
                return Some(());
            }
        }
    }

    /// A Point geometry object with two non-integer coordinates.
    fn point(&mut self) -> Option<(f64, f64)> {
        self.expect(b'{')?;
        let mut is_point = false;
        let mut position = None;
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            match key {
                "type" => is_point = self.string()? == "Point",
                "coordinates" => {
                    self.expect(b'[')?;
                    let x = self.coordinate()?;
                    self.expect(b',')?;
                    let y = self.coordinate()?;
                    self.expect(b']')?;
                    position = Some((x, y));
                }
                _ => return None,
            }
            if !self.list_continues(b'}')? {
                break;
            }
        }
        if is_point {
            position
        } else {
            None
        }
    }

    /// A coordinate written with a fraction or an exponent. Integers are left to the general
    /// path, which reads them as integers first (`-0` becomes `0`).
    fn coordinate(&mut self) -> Option<f64> {
        let d = self.decimal()?;
        if d.integer {
            return None;
        }
        match d.exact {
            // Both the digits and the power of ten are exact doubles, so one division is
            // correctly rounded (Clinger's fast path).
            Some((negative, digits, scale)) if digits < 1 << 53 && scale < POW10.len() => {
                let v = digits as f64 / POW10[scale];
                Some(if negative { -v } else { v })
            }
            // Correctly rounded, as serde_json is with its `float_roundtrip` feature; a number
            // too large for a double is an error there.
            _ => d.text.parse().ok().filter(|v: &f64| v.is_finite()),
        }
    }
}

/// A number as read by [`Cursor::decimal`].
struct Decimal<'a> {
    text: &'a str,
    /// Sign, significant digits and digits after the point, when there is no exponent and at
    /// most 19 digits.
    exact: Option<(bool, u64, usize)>,
    /// No fraction and no exponent.
    integer: bool,
}

/// Powers of ten that are exact doubles.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The first byte at or after `from` that ends the fast scan of a string: the closing quote,
/// an escape or a control character. Eight bytes at a time.
fn string_stop(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    // High bit set in each byte of `x` below `n` (n <= 128). Bytes after the first one found
    // may be flagged wrongly, so only the first is used.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut at = from;
    while let Some(word) = bytes.get(at..at + 8) {
        let x = u64::from_le_bytes(word.try_into().ok()?);
        let found = below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            | below(x, 0x20);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    (at..bytes.len()).find(|&i| matches!(bytes[i], b'"' | b'\\' | 0..=0x1f))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Type, id, point and wanted properties, as text.
    type Read = (
        Option<String>,
        Option<String>,
        Option<(f64, f64)>,
        Vec<Option<String>>,
    );

    fn fast(text: &str, wanted: &[&str]) -> Option<Read> {
        let mut props = vec![None; wanted.len()];
        let s = parse(text, wanted, &mut props)?;
        Some((
            s.kind.map(str::to_string),
            s.id.map(|r| r.get().to_string()),
            s.point,
            props
                .into_iter()
                .map(|p| p.map(|r| r.get().to_string()))
                .collect(),
        ))
    }

    #[test]
    fn reads_the_common_shape_in_any_order_and_spacing() {
        let (kind, id, point, props) = fast(
            r#"{"type":"Feature","properties":{"id":"r1","population":12,"x":true},"geometry":{"type":"Point","coordinates":[24.9384,60.1699]}}"#,
            &["population", "id", "community"],
        )
        .unwrap();
        assert_eq!(kind.as_deref(), Some("Feature"));
        assert_eq!(id, None);
        assert_eq!(point, Some((24.9384, 60.1699)));
        assert_eq!(props, vec![Some("12".into()), Some(r#""r1""#.into()), None]);

        let (kind, id, point, props) = fast(
            " {\n \"geometry\" : { \"coordinates\" : [ -0.5e1 , 1E-2 ] , \"type\" : \"Point\" } ,\r\n\t\"id\" : 7 , \"properties\" : null , \"type\" : \"Feature\" } \n",
            &["population"],
        )
        .unwrap();
        assert_eq!(kind.as_deref(), Some("Feature"));
        assert_eq!(id.as_deref(), Some("7"));
        assert_eq!(point, Some((-5.0, 0.01)));
        assert_eq!(props, vec![None]);
    }

    #[test]
    fn string_stop_finds_the_first_special_byte() {
        for text in [
            &b"abcdefgh\"ijk"[..],
            b"ab\\cdefghijklmnop\"",
            b"abcdefghijklmno\x01p\"",
            b"abcdefghijklmnopq\"",
            b"\"",
            b"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"\x00",
            b"abcdefg",
            b"\x7f\x80\xff\x20\x21\x23\x5b\x5d\x1f",
        ] {
            for from in 0..text.len() {
                let expected = (from..text.len())
                    .find(|&i| text[i] == b'"' || text[i] == b'\\' || text[i] < 0x20);
                assert_eq!(string_stop(text, from), expected, "{text:?} from {from}");
            }
        }
    }

    #[test]
    fn gives_up_on_everything_else() {
        let wanted = ["population"];
        for text in [
            // Escapes, nested values, other members and geometries, integers, altitude.
            r#"{"type":"Feature","properties":{"name":"a\"b"},"geometry":{"type":"Point","coordinates":[1.5,2.5]}}"#,
            r#"{"type":"Feature","properties":{"tags":["a"]},"geometry":{"type":"Point","coordinates":[1.5,2.5]}}"#,
            r#"{"type":"Feature","bbox":[1.5,2.5,1.5,2.5],"properties":{},"geometry":{"type":"Point","coordinates":[1.5,2.5]}}"#,
            r#"{"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[1.5,2.5],[1.6,2.6]]}}"#,
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2.5]}}"#,
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1.5,2.5,3.5]}}"#,
            r#"{"type":"Feature","properties":{},"geometry":{"coordinates":[1.5,2.5]}}"#,
            r#"{"type":"Feature","properties":{},"geometry":null}"#,
            r#"{"type":"Feature","id":{"a":1},"properties":{},"geometry":{"type":"Point","coordinates":[1.5,2.5]}}"#,
            // Syntax the general path must report.
            r#"{"type":"Feature","properties":{"population":01},"geometry":{"type":"Point","coordinates":[1.5,2.5]}}"#,
            r#"{"type":"Feature","properties":{"population":1.},"geometry":{"type":"Point","coordinates":[1.5,2.5]}}"#,
            r#"{"type":"Feature","properties":{"population":tru},"geometry":{"type":"Point","coordinates":[1.5,2.5]}}"#,
            r#"{"type":"Feature","properties":{"population":1,},"geometry":{"type":"Point","coordinates":[1.5,2.5]}}"#,
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1.5,2.5]}} x"#,
            r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1.5,2.5]}"#,
            "{\"type\":\"Fea\tture\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1.5,2.5]}}",
            "{}",
            "",
        ] {
            assert!(fast(text, &wanted).is_none(), "{text}");
        }
    }

    mod against_serde {
        use super::*;
        use crate::io::geojson::read::{parse_with, FeatureParts};
        use proptest::prelude::*;

        const WANTED: [&str; 3] = ["id", "population", "community"];

        fn ws() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec!["", "", "", " ", "\n", " \t", "\r\n "])
        }

        fn number() -> impl Strategy<Value = String> {
            (
                any::<bool>(),
                prop_oneof![Just("0".to_string()), "[1-9][0-9]{0,12}"],
                prop::option::weighted(0.8, "[0-9]{1,21}"),
                prop::option::weighted(0.15, ("[eE]", "[+-]?", "[0-9]{1,3}")),
            )
                .prop_map(|(neg, int, frac, exp)| {
                    let mut t = String::new();
                    if neg {
                        t.push('-');
                    }
                    t += &int;
                    if let Some(f) = frac {
                        t = t + "." + &f;
                    }
                    if let Some((e, sign, digits)) = exp {
                        t = t + &e + &sign + &digits;
                    }
                    t
                })
        }

        fn scalar() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => number(),
                4 => "[a-z0-9 é]{0,8}".prop_map(|s| format!("\"{s}\"")),
                1 => Just(r#""a\"b""#.to_string()),
                1 => Just("true".to_string()),
                1 => Just("null".to_string()),
                1 => Just("[1,2]".to_string()),
            ]
        }

        fn feature() -> impl Strategy<Value = String> {
            let props = prop::collection::vec(
                (
                    prop::sample::select(vec!["id", "population", "community", "name", "x"]),
                    scalar(),
                    ws(),
                ),
                0..5,
            )
            .prop_map(|items| {
                let body: Vec<String> = items
                    .into_iter()
                    .map(|(k, v, w)| format!("{w}\"{k}\"{w}:{w}{v}{w}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            });
            let count = prop::sample::select(vec![2, 2, 2, 2, 2, 1, 3]);
            let coordinates = count
                .prop_flat_map(|n| prop::collection::vec((number(), ws()), n))
                .prop_map(|c| {
                    let c: Vec<String> = c.into_iter().map(|(n, w)| format!("{w}{n}{w}")).collect();
                    format!("[{}]", c.join(","))
                });
            let geometry = (
                prop::sample::select(vec!["Point", "Point", "Point", "LineString"]),
                coordinates,
                any::<bool>(),
                ws(),
            )
                .prop_map(|(kind, c, swap, w)| {
                    let (t, c) = (
                        format!("\"type\"{w}:\"{kind}\""),
                        format!("\"coordinates\":{w}{c}"),
                    );
                    if swap {
                        format!("{{{w}{c},{w}{t}}}")
                    } else {
                        format!("{{{t},{c}{w}}}")
                    }
                });
            let members = (
                prop_oneof![Just("null".to_string()), props],
                prop_oneof![4 => geometry, 1 => Just("null".to_string())],
                prop::option::of(scalar()),
                prop::option::weighted(0.05, Just("\"bbox\":[0.5,0.5,0.5,0.5]")),
            )
                .prop_map(|(props, geometry, id, bbox)| {
                    let mut m = vec![
                        r#""type":"Feature""#.to_string(),
                        format!("\"properties\":{props}"),
                        format!("\"geometry\":{geometry}"),
                    ];
                    m.extend(id.map(|id| format!("\"id\":{id}")));
                    m.extend(bbox.map(str::to_string));
                    m
                });
            (members.prop_shuffle(), ws())
                .prop_map(|(m, w)| format!("{w}{{{}}}{w}", m.join(&format!("{w},{w}"))))
        }

        fn debug(parts: FeatureParts<'_>, props: &[Option<RawJson<'_>>]) -> String {
            format!(
                "{:?} {:?} {:?} {:?}",
                parts.kind, parts.id, parts.geometry, props
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(6000))]

            /// Whenever the fast path reads a feature, serde_json reads the very same values.
            #[test]
            fn same_values_as_serde(text in feature()) {
                let mut fast_props = [None; 3];
                let Some(simple) = parse(&text, &WANTED, &mut fast_props) else {
                    return Ok(());
                };
                let fast_parts = FeatureParts::from(simple);
                let mut serde_props = [None; 3];
                let serde_parts = parse_with(
                    serde_json::Deserializer::from_str(&text),
                    &WANTED,
                    &mut serde_props,
                )
                .expect("serde_json reads what the fast path reads");
                prop_assert_eq!(
                    debug(fast_parts, &fast_props),
                    debug(serde_parts, &serde_props)
                );
            }

            /// Coordinates are correctly rounded, on the fast path and off it.
            #[test]
            fn coordinates_correctly_rounded(text in number()) {
                let mut c = Cursor { text: &text, at: 0 };
                if let Some(v) = c.coordinate() {
                    prop_assert_eq!(v.to_bits(), text.parse::<f64>().unwrap().to_bits());
                }
            }
        }
    }
}
