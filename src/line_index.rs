//! Byte offsets to 1-based line numbers, for messages in `path:line:` form.

/// The start offset of every line of a text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        // Counted first, so the vector is allocated once: grown as the lines came, its copies
        // cost more than finding the lines (every file migrated builds one).
        let newlines = || memchr::memchr_iter(b'\n', text.as_bytes());
        let mut starts = Vec::with_capacity(newlines().count() + 1);
        starts.push(0);
        starts.extend(newlines().map(|newline| newline + 1));
        LineIndex { starts }
    }

    /// The 1-based line that holds byte `offset` (an offset past the end is on the last line).
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }

    /// The byte offset where 1-based `line` starts, if the text has that line.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.checked_sub(1)?).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_offsets_to_lines() {
        let index = LineIndex::new("a\r\nbb\n\ncc");
        assert_eq!(index.line(0), 1);
        assert_eq!(index.line(2), 1);
        assert_eq!(index.line(3), 2);
        assert_eq!(index.line(6), 3);
        assert_eq!(index.line(7), 4);
        assert_eq!(index.line(100), 4);
        assert_eq!(index.line_start(2), Some(3));
        assert_eq!(index.line_start(5), None);
        assert_eq!(index.line_start(0), None);
    }
}
