//! The raw records behind normalized events, read back from a kept copy of the input: a record is
//! found by the position its reader gave it ([`credwarden_model::SourceRef::line`]): the 1-based
//! line of a line-oriented file (JSON lines, VPC flow), or the 1-based index of the record in a JSON
//! document (`{"Records": […]}` or an array). The bytes are the record's own, as the log wrote them
//! (after gzip is undone), without the line's end.

use crate::error::IngestError;
use crate::json_split;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// The records of `path` at the positions in `wanted`, in file order: `(position, bytes)`.
/// Positions beyond the file are missing from the answer (the caller names them).
pub fn records(path: &Path, wanted: &BTreeSet<u64>) -> Result<Vec<(u64, Vec<u8>)>, IngestError> {
    let label = path.display().to_string();
    let mut r = BufReader::with_capacity(1 << 16, crate::open(path)?);
    let io = |e: std::io::Error| IngestError::Io {
        file: label.clone(),
        reason: e.to_string(),
    };
    let head = r.fill_buf().map_err(io)?;
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    // Documents as the CloudTrail reader splits them; anything else by line.
    let root = crate::cloudtrail::layout_of(t).and_then(|l| l.root());
    let mut out = Vec::new();
    let Some(&last) = wanted.last() else {
        return Ok(out);
    };
    match root {
        Some(root) => {
            json_split::for_each_element(r, &label, root, &mut |bytes, index, _| {
                if wanted.contains(&index) {
                    out.push((index, bytes.to_vec()));
                }
            })?;
        }
        None => {
            let mut buf = Vec::new();
            let mut n = 0u64;
            loop {
                buf.clear();
                if r.read_until(b'\n', &mut buf).map_err(io)? == 0 || n >= last {
                    break;
                }
                n += 1;
                if wanted.contains(&n) {
                    while matches!(buf.last(), Some(b'\n' | b'\r')) {
                        buf.pop();
                    }
                    out.push((n, buf.clone()));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_documents_and_gzip() {
        let d = tempfile::tempdir().unwrap();
        let lines = d.path().join("a.jsonl");
        std::fs::write(&lines, "{\"a\":1}\r\n{\"a\":2}\n{\"a\": 3}\n").unwrap();
        let want: BTreeSet<u64> = [1, 3, 9].into();
        let got = records(&lines, &want).unwrap();
        assert_eq!(
            got,
            vec![(1, b"{\"a\":1}".to_vec()), (3, b"{\"a\": 3}".to_vec())]
        );
        let doc = d.path().join("b.json.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(
            &mut gz,
            b"{\"Records\": [ {\"x\": [1,2]},\n {\"y\":\"}\"} ]}",
        )
        .unwrap();
        std::fs::write(&doc, gz.finish().unwrap()).unwrap();
        let got = records(&doc, &[2].into()).unwrap();
        assert_eq!(got, vec![(2, b"{\"y\":\"}\"}".to_vec())]);
        let arr = d.path().join("c.json");
        std::fs::write(&arr, "[{\"x\":1},{\"x\":2}]").unwrap();
        assert_eq!(records(&arr, &[1].into()).unwrap()[0].1, b"{\"x\":1}");
    }
}
