//! The elements of a JSON array inside a document, streamed one at a time as byte slices: the
//! records of a CloudTrail `{"Records":[…]}` file or of a top-level array, without building the
//! document and without reading it byte by byte through a generic deserializer. Only structure is
//! checked here (strings, nesting, commas); each element is then parsed on its own, so a bad record
//! is one located error and the rest of the file is still read.

use crate::error::IngestError;
use std::io::BufRead;

/// Where the array is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// The array is the value of this key of the top-level object.
    Key(&'static str),
    /// The document is the array.
    Array,
}

fn io(file: &str, e: std::io::Error) -> IngestError {
    IngestError::Io {
        file: file.to_string(),
        reason: e.to_string(),
    }
}

struct Scanner<'f, R> {
    r: R,
    file: &'f str,
    line: u64,
}

impl<R: BufRead> Scanner<'_, R> {
    fn err(&self, reason: impl Into<String>) -> IngestError {
        IngestError::Syntax {
            file: self.file.to_string(),
            line: self.line,
            reason: format!("invalid JSON: {}", reason.into()),
        }
    }

    /// Next byte that is not white space, not consumed; `None` at the end.
    fn peek_non_ws(&mut self) -> Result<Option<u8>, IngestError> {
        loop {
            let file = self.file;
            let buf = self.r.fill_buf().map_err(|e| io(file, e))?;
            if buf.is_empty() {
                return Ok(None);
            }
            let mut n = 0;
            for &b in buf {
                match b {
                    b' ' | b'\t' | b'\r' => n += 1,
                    b'\n' => {
                        n += 1;
                        self.line += 1;
                    }
                    // A byte-order mark at the very start.
                    0xEF | 0xBB | 0xBF if self.line == 1 => n += 1,
                    _ => {
                        self.r.consume(n);
                        return Ok(Some(b));
                    }
                }
            }
            self.r.consume(n);
        }
    }

    fn expect(&mut self, want: u8) -> Result<(), IngestError> {
        match self.peek_non_ws()? {
            Some(b) if b == want => {
                self.r.consume(1);
                Ok(())
            }
            Some(b) => Err(self.err(format!(
                "expected `{}`, found `{}`",
                want as char, b as char
            ))),
            None => Err(self.err(format!(
                "expected `{}`, found the end of the file",
                want as char
            ))),
        }
    }

    /// Take one whole value (object, array, string or scalar) into `out` (cleared first).
    fn value(&mut self, out: &mut Vec<u8>) -> Result<(), IngestError> {
        out.clear();
        let first = self
            .peek_non_ws()?
            .ok_or_else(|| self.err("unexpected end of the file"))?;
        let (mut depth, mut in_str, mut esc) = (0u32, false, false);
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        loop {
            let file = self.file;
            let buf = self.r.fill_buf().map_err(|e| io(file, e))?;
            if buf.is_empty() {
                if scalar && !out.is_empty() {
                    return Ok(());
                }
                return Err(self.err("unexpected end of the file inside a value"));
            }
            let mut end = None;
            for (i, &b) in buf.iter().enumerate() {
                if b == b'\n' {
                    self.line += 1;
                }
                if scalar {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                        if b == b'\n' {
                            self.line -= 1; // not consumed: counted again when skipped
                        }
                        end = Some(i);
                        break;
                    }
                    continue;
                }
                if in_str {
                    if esc {
                        esc = false;
                    } else if b == b'\\' {
                        esc = true;
                    } else if b == b'"' {
                        in_str = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            match end {
                Some(n) => {
                    out.extend_from_slice(&buf[..n]);
                    self.r.consume(n);
                    return Ok(());
                }
                None => {
                    let n = buf.len();
                    out.extend_from_slice(buf);
                    self.r.consume(n);
                }
            }
        }
    }
}

fn array<R: BufRead>(
    s: &mut Scanner<'_, R>,
    buf: &mut Vec<u8>,
    index: &mut u64,
    each: &mut dyn FnMut(&[u8], u64, u64),
) -> Result<(), IngestError> {
    s.expect(b'[')?;
    if s.peek_non_ws()? == Some(b']') {
        s.r.consume(1);
        return Ok(());
    }
    loop {
        let line = {
            s.peek_non_ws()?;
            s.line
        };
        s.value(buf)?;
        *index += 1;
        each(buf, *index, line);
        match s.peek_non_ws()? {
            Some(b',') => s.r.consume(1),
            Some(b']') => {
                s.r.consume(1);
                return Ok(());
            }
            Some(b) => {
                return Err(s.err(format!(
                    "expected `,` or `]` after a record, found `{}`",
                    b as char
                )))
            }
            None => return Err(s.err("the file ends inside the array of records")),
        }
    }
}

/// Call `each(element, index, line)` for every element of the array at `root` (index from 1; line
/// where the element starts). Errors in the document's structure stop the file with its line.
pub(crate) fn for_each_element(
    r: impl BufRead,
    file: &str,
    root: Root,
    each: &mut dyn FnMut(&[u8], u64, u64),
) -> Result<(), IngestError> {
    let mut s = Scanner { r, file, line: 1 };
    let mut buf = Vec::with_capacity(4096);
    let mut index = 0u64;
    match root {
        Root::Array => array(&mut s, &mut buf, &mut index, each)?,
        Root::Key(key) => {
            s.expect(b'{')?;
            if s.peek_non_ws()? == Some(b'}') {
                s.r.consume(1);
            } else {
                loop {
                    s.value(&mut buf)?;
                    let name: Option<String> = serde_json::from_slice(&buf).ok();
                    let Some(name) = name else {
                        return Err(s.err("expected a key"));
                    };
                    s.expect(b':')?;
                    if name == key {
                        array(&mut s, &mut buf, &mut index, each)?;
                    } else {
                        s.value(&mut buf)?;
                    }
                    match s.peek_non_ws()? {
                        Some(b',') => s.r.consume(1),
                        Some(b'}') => {
                            s.r.consume(1);
                            break;
                        }
                        Some(b) => {
                            return Err(
                                s.err(format!("expected `,` or `}}`, found `{}`", b as char))
                            )
                        }
                        None => return Err(s.err("the file ends inside the document")),
                    }
                }
            }
        }
    }
    if let Some(b) = s.peek_non_ws()? {
        return Err(s.err(format!("trailing data after the document: `{}`", b as char)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, root: Root) -> Result<Vec<(String, u64, u64)>, String> {
        let mut got = Vec::new();
        for_each_element(text.as_bytes(), "f.json", root, &mut |b, i, l| {
            got.push((String::from_utf8_lossy(b).into_owned(), i, l))
        })
        .map_err(|e| e.to_string())?;
        Ok(got)
    }

    #[test]
    fn elements_with_nesting_strings_and_escapes() {
        let doc = "{\"Other\": {\"a\": [1, \"]\"]},\n \"Records\": [\n {\"a\": \"}\\\"{\", \"b\": [1, {\"c\": 2}]},\n  {\"x\": 1}, 7, \"s\"\n], \"Tail\": null}\n";
        let got = split(doc, Root::Key("Records")).unwrap();
        assert_eq!(
            got,
            vec![
                ("{\"a\": \"}\\\"{\", \"b\": [1, {\"c\": 2}]}".into(), 1, 3),
                ("{\"x\": 1}".into(), 2, 4),
                ("7".into(), 3, 4),
                ("\"s\"".into(), 4, 4),
            ]
        );
        assert_eq!(split("[]", Root::Array).unwrap(), vec![]);
        assert_eq!(
            split("{\"Records\":[]}", Root::Key("Records")).unwrap(),
            vec![]
        );
        assert_eq!(split("\u{feff}[{}]", Root::Array).unwrap().len(), 1);
    }

    #[test]
    fn broken_structure_is_located() {
        let e = split("{\"Records\":[{\"a\":1},\n{\"b\":", Root::Key("Records")).unwrap_err();
        assert!(e.starts_with("f.json:2: invalid JSON"), "{e}");
        let e = split("[{}\n{}]", Root::Array).unwrap_err();
        assert!(
            e.contains("f.json:2") && e.contains("expected `,` or `]`"),
            "{e}"
        );
        let e = split("[{}] x", Root::Array).unwrap_err();
        assert!(e.contains("trailing data"), "{e}");
    }
}
