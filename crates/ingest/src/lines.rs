//! Lines of a line-based log, read with bounded memory and without letting one bad line cost the
//! file: each line comes back with its number and either its text or why it has none (not UTF-8,
//! longer than the limit — the rest of such a line is skipped without being held in memory), and
//! whether it ended with a line end. A last line without one may be a line a writer has not
//! finished: readers consume it only when it parses, and otherwise report it as
//! [`IngestError::Incomplete`](crate::IngestError::Incomplete), which is not counted as consumed, so
//! a later run reads it whole.

use std::io::BufRead;

/// Longest JSON line read (a CloudTrail `{"Records":[…]}` document on one line included): 64 MiB.
pub const MAX_JSON_LINE: usize = 64 << 20;
/// Longest text line read (VPC flow records): 1 MiB.
pub const MAX_TEXT_LINE: usize = 1 << 20;

/// Why a line has no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not UTF-8 (the reason names the byte offset in the line).
    NotUtf8(String),
    /// Longer than the limit: this many bytes in all, skipped.
    TooLong(u64),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::NotUtf8(e) => write!(f, "not UTF-8 text: {e}"),
            LineError::TooLong(n) => write!(
                f,
                "line of {n} bytes is longer than the limit: skipped (is this a log of one record per line?)"
            ),
        }
    }
}

/// One line.
pub struct Line<'a> {
    /// 1-based line number.
    pub n: u64,
    /// The text without its line end (`\n` or `\r\n`), or why there is none.
    pub text: Result<&'a str, LineError>,
    /// It ended with `\n` (false only for the last bytes of the stream).
    pub terminated: bool,
}

impl Line<'_> {
    /// This line as an unfinished last line of `file` (reported, not consumed).
    pub fn incomplete(&self, file: &str) -> crate::IngestError {
        crate::IngestError::Incomplete {
            file: file.to_string(),
            line: self.n,
        }
    }
}

/// Reads lines of at most `max` bytes from a buffered reader.
pub struct LineReader<R> {
    r: R,
    buf: Vec<u8>,
    n: u64,
    max: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of `r`, numbered from `first_line + 1`.
    pub fn new(r: R, max: usize, first_line: u64) -> Self {
        LineReader {
            r,
            buf: Vec::new(),
            n: first_line,
            max,
        }
    }

    /// The next line, a read error named after `file`.
    pub fn next_in(&mut self, file: &str) -> Result<Option<Line<'_>>, crate::IngestError> {
        self.next_line().map_err(|e| crate::IngestError::Io {
            file: file.to_string(),
            reason: e.to_string(),
        })
    }

    /// The next line, `None` at the end.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut total = 0u64;
        let mut terminated = false;
        loop {
            let chunk = match self.r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            total += take as u64;
            // Past the limit the bytes are counted, not kept.
            if self.buf.len() < self.max {
                let room = self.max - self.buf.len();
                self.buf.extend_from_slice(&chunk[..take.min(room)]);
            }
            self.r.consume(take);
            if done {
                terminated = true;
                break;
            }
        }
        if total == 0 {
            return Ok(None);
        }
        self.n += 1;
        let body_len = total - u64::from(terminated);
        let text = if body_len > self.max as u64 {
            Err(LineError::TooLong(body_len))
        } else {
            let mut b = &self.buf[..];
            if terminated {
                b = &b[..b.len() - 1];
            }
            if b.last() == Some(&b'\r') {
                b = &b[..b.len() - 1];
            }
            std::str::from_utf8(b).map_err(|e| LineError::NotUtf8(e.to_string()))
        };
        Ok(Some(Line {
            n: self.n,
            text,
            terminated,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<(u64, Result<String, LineError>, bool)> {
        let mut r = LineReader::new(std::io::BufReader::with_capacity(4, input), max, 0);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.n, l.text.map(String::from), l.terminated));
        }
        out
    }

    #[test]
    fn bad_bytes_and_long_lines_cost_their_line_only() {
        let got = all(b"one\r\nt\xffo\n0123456789abcdef\nlast", 8);
        assert_eq!(got[0], (1, Ok("one".into()), true));
        assert!(matches!(got[1].1, Err(LineError::NotUtf8(_))) && got[1].0 == 2);
        assert_eq!(got[2], (3, Err(LineError::TooLong(16)), true));
        assert_eq!(got[3], (4, Ok("last".into()), false));
        assert_eq!(got.len(), 4);
        assert!(all(b"", 8).is_empty());
        assert_eq!(all(b"\n", 8), vec![(1, Ok(String::new()), true)]);
    }

    #[test]
    fn memory_stays_bounded_by_the_limit() {
        let big = vec![b'x'; 10 << 20];
        let mut r = LineReader::new(&big[..], 1024, 0);
        let l = r.next_line().unwrap().unwrap();
        assert_eq!(l.text, Err(LineError::TooLong(10 << 20)));
        assert!(r.buf.capacity() < 1 << 20);
    }
}
