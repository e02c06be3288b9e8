//! A cheap look at how deeply a YAML text nests flow collections, before handing it to
//! `serde_yaml_ng` (catalogs, lock files).
//!
//! `serde_yaml_ng` stops at 128 levels, but only once its scanner (`unsafe-libyaml`) has read
//! the whole text, and that scanner costs the flow depth for every token: a 1 MB file of
//! `[[[[…]]]]` ran for many minutes. Counting brackets first makes such a file an error in one
//! pass. Values files and `Chart.yaml` do not need this: their parser (`saphyr-parser`) refuses
//! flow nesting past 255 levels as it reads, and [`super::parse`] caps all nesting at 1 000.

/// The deepest flow nesting [`check_flow_nesting`] lets through: `serde_yaml_ng` refuses more
/// than 128 levels of any nesting anyway, so no file it reads is refused here.
pub const MAX_FLOW_DEPTH: usize = 128;

/// A text whose flow collections nest deeper than allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("flow collections nested deeper than {max} levels")]
pub struct TooDeep {
    pub line: usize,
    pub max: usize,
}

/// Whether the flow collections (`[…]`, `{…}`) of `text` nest at most `max` levels deep.
///
/// Brackets count where YAML reads them as flow indicators: anywhere inside a flow collection,
/// and in block context where a node starts (after indentation, `- `, `: `, `? `); not in
/// comments, quoted scalars or block scalars (`|`, `>`). What is not YAML is not judged: the
/// parser reports it. The count errs towards more depth, never less.
pub fn check_flow_nesting(text: &str, max: usize) -> Result<(), TooDeep> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut line = 1usize;
    // The last byte that is not a blank, and whether a node may start here in block context.
    let mut previous = b'\n';
    // While skipping a block scalar: the indentation its body must exceed.
    let mut block_scalar: Option<usize> = None;
    let mut at = 0;
    let mut line_start = true;
    while at < bytes.len() {
        let byte = bytes[at];
        if std::mem::take(&mut line_start) {
            let indent = bytes[at..].iter().take_while(|&&b| b == b' ').count();
            let blank = matches!(bytes.get(at + indent), None | Some(b'\n' | b'\r'));
            match block_scalar {
                Some(parent) if blank || indent > parent => {
                    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
                    at = end;
                    continue;
                }
                _ => block_scalar = None,
            }
        }
        match byte {
            b'\n' => {
                line += 1;
                line_start = true;
                if depth == 0 {
                    previous = b'\n';
                }
                at += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                at += 1;
                continue;
            }
            b'#' if at == 0 || matches!(bytes[at - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                at = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
                continue;
            }
            _ => {}
        }
        let node_start = depth > 0 && matches!(previous, b'[' | b'{' | b',' | b':' | b'?')
            || depth == 0 && matches!(previous, b'\n' | b'-' | b':' | b'?');
        match byte {
            b'"' | b'\'' if node_start => {
                let (end, lines) = quoted_end(bytes, at);
                line += lines;
                at = end;
                previous = byte;
                continue;
            }
            b'|' | b'>' if depth == 0 && node_start => {
                block_scalar = Some(line_indent(bytes, at));
            }
            b'[' | b'{' if depth > 0 || node_start => {
                depth += 1;
                if depth > max {
                    return Err(TooDeep { line, max });
                }
            }
            b']' | b'}' if depth > 0 => depth -= 1,
            _ => {}
        }
        previous = byte;
        at += 1;
    }
    Ok(())
}

/// The end of the quoted scalar starting at `start` (just past its closing quote, or the end
/// of the text), and how many line breaks it holds.
fn quoted_end(bytes: &[u8], start: usize) -> (usize, usize) {
    let quote = bytes[start];
    let mut lines = 0;
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' if quote == b'"' => at += 1,
            b'\'' if quote == b'\'' && bytes.get(at + 1) == Some(&b'\'') => at += 1,
            byte if byte == quote => return (at + 1, lines),
            b'\n' => lines += 1,
            _ => {}
        }
        at += 1;
    }
    (bytes.len(), lines)
}

/// The indentation of the line holding `at`.
fn line_indent(bytes: &[u8], at: usize) -> usize {
    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
    bytes[start..].iter().take_while(|&&b| b == b' ').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_nesting_is_counted_where_yaml_reads_brackets() {
        let ok = |text: &str| check_flow_nesting(text, 2).is_ok();
        assert!(ok("a: [[1], {b: 2}]\n"));
        assert!(!ok("a: [[[1]]]\n"));
        assert!(!ok("- {a: [[1]]}\n"));
        assert_eq!(
            check_flow_nesting("a: 1\nb:\n  [[\n   [1]]]\n", 2),
            Err(TooDeep { line: 4, max: 2 })
        );
        // Not flow indicators: in plain scalars, quotes, comments and block scalars.
        assert!(ok("a: x[[[y\nb: it's [[[\n"));
        assert!(ok("a: \"[[[\" # [[[\nb: '[[[''['\n"));
        assert!(ok(
            "a: |\n  [[[\n  {{{\nb: >-\n   [[[\n\n   [[[\nc: [[1]]\n"
        ));
        assert!(!ok("a: |\n  [[[\nb: [[[1]]]\n"));
        // Quotes inside flow collections, and a quote that is not one.
        assert!(ok("a: ['[[[', \"]]]\"]\n"));
        assert!(!ok("a: [it's, [[1]]]\n"));
    }

    #[test]
    fn a_megabyte_of_brackets_is_refused_at_the_first_level_too_deep() {
        let text = format!("name: x\nannotations: {}\n", "[".repeat(1 << 20));
        assert_eq!(
            check_flow_nesting(&text, MAX_FLOW_DEPTH),
            Err(TooDeep {
                line: 2,
                max: MAX_FLOW_DEPTH
            })
        );
    }
}
