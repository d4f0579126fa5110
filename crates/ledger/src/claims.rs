//! What a gateway sends to be checked, read into [`Claims`]: our JSON (`{"jti","kid","sub","iat"}`),
//! the compact JWT itself (header and payload decoded; the signature is the gateway's to verify — we
//! answer whether the token was *issued*), or the token of an RFC 7662 introspection form
//! (`token=…`). Bad input is an error that says what is wrong, never a panic.

use serde_json::Value;

/// The claims that decide issuance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// Token id.
    pub jti: Option<String>,
    /// Signing key id (JWT header `kid`).
    pub kid: Option<String>,
    /// Subject.
    pub sub: Option<String>,
    /// Issued at (seconds).
    pub iat: Option<i64>,
    /// Expires at (seconds).
    pub exp: Option<i64>,
    /// Client (`client_id`, `azp` or `cid`).
    pub client: Option<String>,
}

/// Why a request body cannot be read as a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadToken(pub String);

fn bad(s: impl Into<String>) -> BadToken {
    BadToken(s.into())
}

/// A NumericDate: a JSON number (integer or not) or a string of digits.
fn seconds(v: Option<&Value>, field: &str) -> Result<Option<i64>, BadToken> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| bad(format!("`{field}` is not a time in seconds"))),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad(format!("`{field}` is not a time in seconds"))),
        Some(_) => Err(bad(format!("`{field}` is not a time in seconds"))),
    }
}

fn text(v: Option<&Value>, field: &str) -> Result<Option<String>, BadToken> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(bad(format!("`{field}` is not a string"))),
    }
}

impl Claims {
    /// From a JSON object of claims (`jti`, `kid`, `sub`, `iat`, `exp`, `client_id`/`azp`/`cid`).
    /// `kid` may also come from `header` (a decoded JWT header).
    pub fn from_object(claims: &Value, header: Option<&Value>) -> Result<Claims, BadToken> {
        if !claims.is_object() {
            return Err(bad("the claims are not a JSON object"));
        }
        let kid = match text(claims.get("kid"), "kid")? {
            Some(k) => Some(k),
            None => text(header.and_then(|h| h.get("kid")), "kid")?,
        };
        let client = ["client_id", "azp", "cid"]
            .iter()
            .map(|k| text(claims.get(*k), k))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .next();
        Ok(Claims {
            jti: text(claims.get("jti"), "jti")?,
            kid,
            sub: text(claims.get("sub"), "sub")?,
            iat: seconds(claims.get("iat"), "iat")?,
            exp: seconds(claims.get("exp"), "exp")?,
            client,
        })
    }

    /// From a compact JWS (`header.payload.signature`, base64url without padding). The signature
    /// is not checked: the gateway verifies it; the ledger says whether the token was issued.
    pub fn from_jwt(token: &str) -> Result<Claims, BadToken> {
        let token = token.trim();
        let token = token
            .strip_prefix("Bearer ")
            .or_else(|| token.strip_prefix("bearer "))
            .unwrap_or(token)
            .trim();
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(
                "not a compact JWT (three base64url parts separated by dots)",
            ));
        };
        let decode = |part: &str, what: &str| -> Result<Value, BadToken> {
            let bytes = credwarden_model::codec::base64url_decode(part)
                .ok_or_else(|| bad(format!("the JWT {what} is not base64url")))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| bad(format!("the JWT {what} is not JSON: {e}")))
        };
        let header = decode(h, "header")?;
        let payload = decode(p, "payload")?;
        Claims::from_object(&payload, Some(&header))
    }

    /// From a request body: JSON claims, JSON `{"token": JWT}`, an RFC 7662 form
    /// (`token=JWT&token_type_hint=…`), or the JWT as plain text — by `content_type` and shape.
    pub fn from_body(content_type: &str, body: &[u8]) -> Result<(Claims, Form), BadToken> {
        let ct = content_type.to_ascii_lowercase();
        if ct.starts_with("application/x-www-form-urlencoded") {
            let body = std::str::from_utf8(body).map_err(|_| bad("the form is not UTF-8"))?;
            let token = form_value(body, "token")
                .ok_or_else(|| bad("an introspection request needs a `token` parameter"))?;
            return Ok((Claims::from_jwt(&token)?, Form::Introspection));
        }
        let trimmed = body.trim_ascii();
        if trimmed.first() == Some(&b'{') {
            let v: Value = serde_json::from_slice(trimmed)
                .map_err(|e| bad(format!("the body is not JSON: {e}")))?;
            match v.get("token") {
                Some(Value::String(t)) => return Ok((Claims::from_jwt(t)?, Form::Claims)),
                Some(_) => return Err(bad("`token` is not a string")),
                None => {}
            }
            return Ok((Claims::from_object(&v, None)?, Form::Claims));
        }
        let text = std::str::from_utf8(trimmed).map_err(|_| bad("the body is not UTF-8"))?;
        if text.is_empty() {
            return Err(bad(
                "empty body: send JSON claims, a JWT, or an introspection form",
            ));
        }
        Ok((Claims::from_jwt(text)?, Form::Claims))
    }
}

/// The shape of the question, which decides the shape of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Our JSON (or a JWT): `200 {"decision":"allow"}` / `403 {"decision":"deny",…}`.
    Claims,
    /// RFC 7662: `200 {"active": …}`.
    Introspection,
}

/// The value of `key` in an `application/x-www-form-urlencoded` body, decoded (`+` is a space).
pub fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| credwarden_model::codec::percent_decode(&v.replace('+', " ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |a, &x| (a << 8) | u32::from(x)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn jwt(header: &str, payload: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(payload))
    }

    #[test]
    fn a_jwt_gives_header_kid_and_payload_claims() {
        let t = jwt(
            r#"{"alg":"RS256","kid":"login-rs256-2019"}"#,
            r#"{"jti":"t-1","sub":"m-42","iat":1700000000,"exp":1700003600,"azp":"app"}"#,
        );
        let c = Claims::from_jwt(&t).unwrap();
        assert_eq!(c.jti.as_deref(), Some("t-1"));
        assert_eq!(c.kid.as_deref(), Some("login-rs256-2019"));
        assert_eq!(c.sub.as_deref(), Some("m-42"));
        assert_eq!(c.iat, Some(1_700_000_000));
        assert_eq!(c.exp, Some(1_700_003_600));
        assert_eq!(c.client.as_deref(), Some("app"));
        assert_eq!(Claims::from_jwt(&format!("Bearer {t}")).unwrap(), c);
    }

    #[test]
    fn every_body_form_reads_the_same_claims() {
        let t = jwt(r#"{"kid":"k"}"#, r#"{"jti":"j","sub":"s","iat":5}"#);
        let want = Claims {
            jti: Some("j".into()),
            kid: Some("k".into()),
            sub: Some("s".into()),
            iat: Some(5),
            ..Claims::default()
        };
        let json = br#"{"jti":"j","kid":"k","sub":"s","iat":"5"}"#;
        assert_eq!(
            Claims::from_body("application/json", json).unwrap(),
            (want.clone(), Form::Claims)
        );
        let wrapped = format!(r#"{{"token":"{t}"}}"#);
        assert_eq!(
            Claims::from_body("application/json", wrapped.as_bytes())
                .unwrap()
                .0,
            want
        );
        assert_eq!(
            Claims::from_body("application/jwt", t.as_bytes())
                .unwrap()
                .0,
            want
        );
        let form = format!("token={t}&token_type_hint=access_token");
        assert_eq!(
            Claims::from_body(
                "application/x-www-form-urlencoded; charset=utf-8",
                form.as_bytes()
            )
            .unwrap(),
            (want, Form::Introspection)
        );
    }

    #[test]
    fn bad_input_is_an_error_that_says_why() {
        for (ct, body, says) in [
            ("application/json", "", "empty body"),
            ("text/plain", "abc", "not a compact JWT"),
            ("text/plain", "a.b.c.d", "not a compact JWT"),
            ("text/plain", "@@.e30.x", "header is not base64url"),
            ("text/plain", "e30.bm90IGpzb24.x", "payload is not JSON"),
            ("application/json", "{\"jti\":[1]}", "`jti` is not a string"),
            (
                "application/json",
                "{\"iat\":\"soon\"}",
                "`iat` is not a time",
            ),
            ("application/json", "[1]", "not a compact JWT"),
            ("application/json", "{\"token\":5}", "not a string"),
            (
                "application/x-www-form-urlencoded",
                "x=1",
                "needs a `token`",
            ),
        ] {
            let e = Claims::from_body(ct, body.as_bytes()).unwrap_err();
            assert!(e.0.contains(says), "{body}: {e}");
        }
    }

    #[test]
    fn form_values_are_percent_decoded() {
        assert_eq!(
            form_value("a=1&token=x%2Ey+z%", "token").as_deref(),
            Some("x.y z%")
        );
        assert_eq!(form_value("a=1", "token"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_body_is_read_or_refused_without_panic(ct in "[a-z/+-]{0,30}", body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = Claims::from_body(&ct, &body);
        }

        #[test]
        fn any_three_part_text_is_read_or_refused(s in "[A-Za-z0-9_=.-]{0,200}") {
            let _ = Claims::from_jwt(&s);
        }
    }
}
