//! SCIM attribute paths and filters (RFC 7644 §3.4.2.2, §3.5.2): parsed once into a tree, then
//! evaluated against stored resources. Names are case-insensitive; string comparisons are too
//! unless the attribute is `caseExact`. Schema URNs may prefix a path (`urn:…:enterprise:2.0:User:
//! department`), and the dots inside a URN's version are not taken for sub-attribute separators.

use super::schema::{Attr, Catalogue, Kind};
use serde_json::{Map, Value};

/// `[urn:]attr[.sub]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// The extension it lives in (`None`: the resource's core schema or a common attribute).
    pub urn: Option<String>,
    /// The attribute (`None`: the whole extension object).
    pub attr: Option<String>,
    /// A sub-attribute of a complex attribute.
    pub sub: Option<String>,
}

impl AttrPath {
    /// Parse one attribute path.
    pub fn parse(s: &str) -> Result<AttrPath, String> {
        let cat = Catalogue::get();
        let mut rest = s;
        let mut urn = None;
        if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
            let known = cat.urns().find(|u| {
                s.get(..u.len()).is_some_and(|p| p.eq_ignore_ascii_case(u))
                    && (s.len() == u.len() || s.as_bytes()[u.len()] == b':')
            });
            let Some(u) = known else {
                return Err(format!("`{s}`: no schema we serve has this URN"));
            };
            rest = s[u.len()..].trim_start_matches(':');
            if !cat.is_core(u) {
                urn = Some(u.to_string());
                if rest.is_empty() {
                    return Ok(AttrPath {
                        urn,
                        attr: None,
                        sub: None,
                    });
                }
            }
        }
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        let ok = |n: &str| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        if !ok(attr) || sub.is_some_and(|s| !ok(s)) {
            return Err(format!("`{s}` is not an attribute path"));
        }
        Ok(AttrPath {
            urn,
            attr: Some(attr.to_string()),
            sub: sub.map(String::from),
        })
    }

    /// The attribute's definition in resources of `kind`, if we serve it; `scope` is the complex
    /// attribute a filter inside brackets is relative to.
    pub fn def<'c>(&self, kind: &'c Kind, scope: Option<&'c Attr>) -> Option<&'c Attr> {
        let attr = self.attr.as_deref()?;
        let top = match (scope, &self.urn) {
            (Some(s), None) => s.sub(attr),
            (_, Some(u)) => kind.extension(u)?.attr(attr),
            (None, None) => kind.core_attr(attr),
        }?;
        match &self.sub {
            Some(s) => top.sub(s),
            None => Some(top),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// equal
    Eq,
    /// not equal
    Ne,
    /// contains
    Co,
    /// starts with
    Sw,
    /// ends with
    Ew,
    /// greater than
    Gt,
    /// greater or equal
    Ge,
    /// less than
    Lt,
    /// less or equal
    Le,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Not.
    Not(Box<Filter>),
    /// `attr pr`.
    Present(AttrPath),
    /// `attr op value`.
    Cmp(AttrPath, Op, Value),
    /// `attr[filter]`: some value of a multi-valued complex attribute matches.
    Within(AttrPath, Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    LBracket,
    RBracket,
    Str(String),
    Word(String),
}

fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b'(' => {
                out.push(Tok::Open);
                i += 1
            }
            b')' => {
                out.push(Tok::Close);
                i += 1
            }
            b'[' => {
                out.push(Tok::LBracket);
                i += 1
            }
            b']' => {
                out.push(Tok::RBracket);
                i += 1
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i >= b.len() {
                    return Err(format!("unterminated string at offset {start}"));
                }
                i += 1;
                let v: String = serde_json::from_str(&s[start..i])
                    .map_err(|e| format!("bad string at offset {start}: {e}"))?;
                out.push(Tok::Str(v));
            }
            _ => {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && !b"()[]\"".contains(&b[i]) {
                    i += 1;
                }
                out.push(Tok::Word(s[start..i].to_string()));
            }
        }
    }
    Ok(out)
}

/// Deepest nesting of `(…)`, `not(…)` and `attr[…]` a filter may have: real filters nest a few
/// levels; a hostile one must not exhaust the stack (parsing, evaluating and dropping a filter are
/// recursive).
pub const MAX_DEPTH: usize = 32;
/// Most tokens a filter may have (a few hundred comparisons): `and`/`or` chains build trees as deep
/// as they are long.
pub const MAX_TOKENS: usize = 1024;

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<(), String> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            other => Err(format!("expected {what}, found {}", show(other.as_ref()))),
        }
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("filter nested more than {MAX_DEPTH} levels deep"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.not()?;
        while self.peek_word("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Filter, String> {
        if self.peek_word("not") {
            self.at += 1;
            self.expect(Tok::Open, "`(` after `not`")?;
            self.nest()?;
            let f = self.or()?;
            self.expect(Tok::Close, "`)`")?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(f)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Filter, String> {
        match self.next() {
            Some(Tok::Open) => {
                self.nest()?;
                let f = self.or()?;
                self.expect(Tok::Close, "`)`")?;
                self.depth -= 1;
                Ok(f)
            }
            Some(Tok::Word(w)) => {
                let path = AttrPath::parse(&w)?;
                match self.next() {
                    Some(Tok::LBracket) => {
                        self.nest()?;
                        let inner = self.or()?;
                        self.expect(Tok::RBracket, "`]`")?;
                        self.depth -= 1;
                        Ok(Filter::Within(path, Box::new(inner)))
                    }
                    Some(Tok::Word(op)) if op.eq_ignore_ascii_case("pr") => {
                        Ok(Filter::Present(path))
                    }
                    Some(Tok::Word(op)) => {
                        let op = match op.to_ascii_lowercase().as_str() {
                            "eq" => Op::Eq,
                            "ne" => Op::Ne,
                            "co" => Op::Co,
                            "sw" => Op::Sw,
                            "ew" => Op::Ew,
                            "gt" => Op::Gt,
                            "ge" => Op::Ge,
                            "lt" => Op::Lt,
                            "le" => Op::Le,
                            _ => return Err(format!("`{op}` is not a comparison operator")),
                        };
                        let value = match self.next() {
                            Some(Tok::Str(s)) => Value::String(s),
                            Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                                "true" => Value::Bool(true),
                                "false" => Value::Bool(false),
                                "null" => Value::Null,
                                _ => serde_json::from_str::<serde_json::Number>(&w)
                                    .map(Value::Number)
                                    .map_err(|_| format!("`{w}` is not a value"))?,
                            },
                            other => {
                                return Err(format!(
                                    "expected a value, found {}",
                                    show(other.as_ref())
                                ))
                            }
                        };
                        Ok(Filter::Cmp(path, op, value))
                    }
                    other => Err(format!(
                        "expected an operator after `{w}`, found {}",
                        show(other.as_ref())
                    )),
                }
            }
            other => Err(format!(
                "expected an attribute, found {}",
                show(other.as_ref())
            )),
        }
    }
}

fn show(t: Option<&Tok>) -> String {
    match t {
        None => "the end".into(),
        Some(Tok::Open) => "`(`".into(),
        Some(Tok::Close) => "`)`".into(),
        Some(Tok::LBracket) => "`[`".into(),
        Some(Tok::RBracket) => "`]`".into(),
        Some(Tok::Str(s)) => format!("\"{s}\""),
        Some(Tok::Word(w)) => format!("`{w}`"),
    }
}

impl Filter {
    /// Parse a whole filter expression.
    pub fn parse(s: &str) -> Result<Filter, String> {
        let toks = tokens(s)?;
        if toks.len() > MAX_TOKENS {
            return Err(format!(
                "filter of {} terms is longer than the {MAX_TOKENS} allowed",
                toks.len()
            ));
        }
        let mut p = Parser {
            toks,
            at: 0,
            depth: 0,
        };
        let f = p.or()?;
        if p.at < p.toks.len() {
            return Err(format!(
                "unexpected {} after a complete filter",
                show(p.toks.get(p.at))
            ));
        }
        Ok(f)
    }

    /// Does `resource`, of `kind`, match?
    pub fn matches(&self, kind: &Kind, resource: &Map<String, Value>) -> bool {
        self.eval(kind, resource, None)
    }

    /// Does one value of the complex attribute `attr` match (the filter inside `attr[…]`)?
    pub fn matches_within(&self, kind: &Kind, value: &Map<String, Value>, attr: &Attr) -> bool {
        self.eval(kind, value, Some(attr))
    }

    fn eval(&self, kind: &Kind, obj: &Map<String, Value>, scope: Option<&Attr>) -> bool {
        match self {
            Filter::And(a, b) => a.eval(kind, obj, scope) && b.eval(kind, obj, scope),
            Filter::Or(a, b) => a.eval(kind, obj, scope) || b.eval(kind, obj, scope),
            Filter::Not(a) => !a.eval(kind, obj, scope),
            Filter::Present(p) => lookup(obj, p, false).iter().any(|v| match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                _ => true,
            }),
            Filter::Cmp(p, op, want) => {
                let exact = p.def(kind, scope).is_some_and(|a| a.case_exact)
                    || (p.urn.is_none()
                        && scope.is_none()
                        && p.attr
                            .as_deref()
                            .is_some_and(|a| a.eq_ignore_ascii_case("id")));
                let got = lookup(obj, p, true);
                if *op == Op::Ne {
                    return !got.iter().any(|v| compare(v, Op::Eq, want, exact));
                }
                if want.is_null() && *op == Op::Eq {
                    return got.iter().all(|v| v.is_null());
                }
                got.iter().any(|v| compare(v, *op, want, exact))
            }
            Filter::Within(p, inner) => {
                let def = p.def(kind, scope);
                lookup(obj, p, false).iter().any(|v| match v {
                    Value::Object(o) => inner.eval(kind, o, def),
                    _ => false,
                })
            }
        }
    }
}

/// Case-insensitive key lookup.
pub fn get_ci<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a Value> {
    m.get(k).or_else(|| {
        m.iter()
            .find(|(x, _)| x.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    })
}

/// The values at `p` in `obj`, multi-valued attributes flattened; with `leaf`, a complex value
/// without a sub-attribute named stands for its `value` sub-attribute (RFC 7644 §3.4.2.2).
fn lookup<'a>(obj: &'a Map<String, Value>, p: &AttrPath, leaf: bool) -> Vec<&'a Value> {
    let container = match &p.urn {
        Some(u) => match get_ci(obj, u) {
            Some(Value::Object(o)) => o,
            _ => return vec![],
        },
        None => obj,
    };
    let Some(attr) = &p.attr else {
        return vec![];
    };
    let Some(v) = get_ci(container, attr) else {
        return vec![];
    };
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    items
        .into_iter()
        .filter_map(|it| match (&p.sub, it) {
            (Some(s), Value::Object(o)) => get_ci(o, s),
            (Some(_), _) => None,
            (None, Value::Object(o)) if leaf => get_ci(o, "value"),
            (None, v) => Some(v),
        })
        .collect()
}

fn compare(got: &Value, op: Op, want: &Value, exact: bool) -> bool {
    match (got, want) {
        (Value::String(g), Value::String(w)) => {
            let (g, w) = if exact {
                (g.clone(), w.clone())
            } else {
                (g.to_lowercase(), w.to_lowercase())
            };
            match op {
                Op::Eq => g == w,
                Op::Ne => g != w,
                Op::Co => g.contains(&w),
                Op::Sw => g.starts_with(&w),
                Op::Ew => g.ends_with(&w),
                Op::Gt => g > w,
                Op::Ge => g >= w,
                Op::Lt => g < w,
                Op::Le => g <= w,
            }
        }
        (Value::Bool(g), Value::Bool(w)) => match op {
            Op::Eq => g == w,
            Op::Ne => g != w,
            _ => false,
        },
        (Value::Number(g), Value::Number(w)) => {
            let (Some(g), Some(w)) = (g.as_f64(), w.as_f64()) else {
                return false;
            };
            match op {
                Op::Eq => g == w,
                Op::Ne => g != w,
                Op::Gt => g > w,
                Op::Ge => g >= w,
                Op::Lt => g < w,
                Op::Le => g <= w,
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Map<String, Value> {
        json!({
            "id": "E2", "userName": "Bo.Kim", "active": true, "externalId": "ext-9",
            "name": {"givenName": "Bo", "familyName": "Kim"},
            "emails": [{"value": "bo@shop.example", "type": "work", "primary": true},
                       {"value": "bo@home.example", "type": "home"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Payments", "employeeNumber": "E2"},
            "meta": {"lastModified": "2026-11-01T00:00:00Z"},
        })
        .as_object()
        .unwrap()
        .clone()
    }

    fn m(f: &str) -> bool {
        Filter::parse(f)
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .matches(Catalogue::get().user(), &user())
    }

    #[test]
    fn filters_that_must_match() {
        for f in [
            r#"userName eq "bo.kim""#,
            r#"USERNAME Eq "BO.KIM""#,
            r#"userName sw "bo" and active eq true"#,
            r#"emails co "home.example""#,
            r#"emails[type eq "work" and value ew "@shop.example"]"#,
            r#"emails.type eq "home""#,
            r#"name.givenName pr"#,
            r#"not (active eq false)"#,
            r#"(userName eq "x") or (externalId eq "ext-9")"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "payments""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "Bo.Kim""#,
            r#"meta.lastModified gt "2026-10-01T00:00:00Z""#,
            r#"title eq null"#,
            r#"userName ne "ana""#,
        ] {
            assert!(m(f), "{f} should match");
        }
    }

    #[test]
    fn filters_that_must_not_match() {
        for f in [
            r#"userName eq "ana""#,
            r#"externalId eq "EXT-9""#,
            r#"id eq "e2""#,
            r#"emails[type eq "work" and value ew "@home.example"]"#,
            r#"title pr"#,
            r#"active eq false"#,
            r#"userName eq "bo.kim" and active eq false"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "hr""#,
        ] {
            assert!(!m(f), "{f} should not match");
        }
    }

    #[test]
    fn malformed_filters_are_errors_that_say_where() {
        for (f, says) in [
            (r#"userName eq"#, "expected a value"),
            (r#"userName is "x""#, "not a comparison operator"),
            (r#"userName eq "x" and"#, "expected an attribute"),
            (r#"(userName eq "x""#, "expected `)`"),
            (r#"userName eq "x" extra"#, "unexpected"),
            (r#"userName eq "x"#, "unterminated"),
            (r#"urn:example:other:attr eq "x""#, "no schema"),
            (r#"emails[type eq "work""#, "expected `]`"),
        ] {
            let e = Filter::parse(f).unwrap_err();
            assert!(e.contains(says), "{f}: {e}");
        }
    }

    #[test]
    fn a_urn_version_is_not_a_sub_attribute() {
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(p.attr.as_deref(), Some("manager"));
        assert_eq!(p.sub.as_deref(), Some("value"));
        let whole =
            AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").unwrap();
        assert!(whole.urn.is_some() && whole.attr.is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_errs_without_panicking(s in "\\PC{0,60}") {
            if let Ok(f) = Filter::parse(&s) {
                let _ = f.matches(Catalogue::get().user(), &user());
            }
        }
    }

    #[test]
    fn hostile_nesting_and_length_are_refused_not_overflowed() {
        let deep = format!("{}userName eq \"x\"{}", "(".repeat(400), ")".repeat(400));
        assert!(Filter::parse(&deep).unwrap_err().contains("nested"));
        let nots = format!("{}userName eq \"x\"{}", "not(".repeat(300), ")".repeat(300));
        let e = Filter::parse(&nots).unwrap_err();
        assert!(e.contains("nested"), "{e}");
        let within = format!("{}{}", "emails[".repeat(5000), "]".repeat(5000));
        assert!(Filter::parse(&within).is_err());
        let huge = format!(
            "{}userName eq \"x\"{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        assert!(Filter::parse(&huge).unwrap_err().contains("longer"));
        let long = vec!["userName eq \"x\""; 100_000].join(" and ");
        assert!(Filter::parse(&long).unwrap_err().contains("longer"));
        // Real filters are untouched by the limits.
        let ok = format!(
            "{}userName eq \"x\"{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert!(Filter::parse(&ok).is_ok());
    }
}
