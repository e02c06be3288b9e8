//! Patches in the form `git apply` takes.
//!
//! `similar` finds the hunks; this module writes them, with the `diff --git` header git wants
//! and paths written the way git does: `/`-separated and C-quoted when they hold bytes git
//! quotes (octal escapes for bytes that are not printable ASCII, so a name that is not UTF-8
//! survives). Which paths those are is [`crate::patch_path`]'s business. Lines end at `\n`
//! only, as `git apply` reads them: `similar`'s own line splitting also ends a line at a lone
//! `\r`, which makes the patch of a file holding one corrupt for git (a fuzz finding,
//! docs/fuzzing.md). A CRLF line is a line whose text ends in `\r`, which `git apply` accepts.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use similar::udiff::UnifiedHunkHeader;
use similar::{ChangeTag, DiffOp, TextDiff};

/// Lines of context around each change, as `git diff` uses.
const CONTEXT_LINES: usize = 3;

/// A `diff --git` patch turning `old` into `new` for the file at `path` (relative, with `/`
/// separators, as bytes: see [`crate::patch_path`]).
pub fn unified_diff(path: impl AsRef<[u8]>, old: &str, new: &str) -> String {
    let path = path.as_ref();
    let a = quote_path(&[b"a/", path].concat());
    let b = quote_path(&[b"b/", path].concat());
    let mut patch = format!("diff --git {a} {b}\n");
    // The window is enough unless the diff moved a change into its edge lines (a block of
    // repeated lines can be inserted at any of them); the whole files are compared then.
    for window in [Window::of(old, new), Window::whole(old, new)] {
        let old_lines = git_lines(&old[window.old.clone()]);
        let new_lines = git_lines(&new[window.new.clone()]);
        let diff = TextDiff::configure().diff_slices(&old_lines, &new_lines);
        if window.holds(diff.ops(), old, new) {
            write_hunks(&mut patch, &diff, window.first_line, (&a, &b));
            break;
        }
    }
    patch
}

/// The hunks of `diff`, its lines numbered from `first_line` + 1, after the `---`/`+++` header.
fn write_hunks(
    patch: &mut String,
    diff: &TextDiff<'_, '_, str>,
    first_line: usize,
    names: (&str, &str),
) {
    let mut unified = diff.unified_diff();
    unified.context_radius(CONTEXT_LINES);
    for (index, hunk) in unified.iter_hunks().enumerate() {
        if index == 0 {
            let _ = write!(patch, "--- {}\n+++ {}\n", names.0, names.1);
        }
        let ops: Vec<DiffOp> = hunk
            .ops()
            .iter()
            .map(|op| shifted(*op, first_line))
            .collect();
        let _ = writeln!(patch, "{}", UnifiedHunkHeader::new(&ops));
        for change in hunk.iter_changes() {
            write_line(patch, change.tag(), change.value());
        }
    }
}

/// The part of two texts a diff needs to look at: the lines from [`CONTEXT_LINES`] before the
/// first line that differs to as many after the last one, the same lines in both texts.
///
/// A line diff of the whole files would give the same hunks: `similar` trims the lines the two
/// texts start and end with before it compares anything, and the hunks show only
/// [`CONTEXT_LINES`] of them. But it would split and hash every line of both files first, which
/// for a large values file with one changed image was most of the cost of its patch.
struct Window {
    old: Range<usize>,
    new: Range<usize>,
    /// How many lines both texts have before the window (0-based number of its first line).
    first_line: usize,
}

impl Window {
    fn of(old: &str, new: &str) -> Window {
        let (old, new) = (old.as_bytes(), new.as_bytes());
        let same_start = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        // The lines both texts start with end where the line of the first difference begins.
        let head = line_start(old, same_start);
        let same_end = old[head..]
            .iter()
            .rev()
            .zip(new[head..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        // The lines both texts end with: the longest run of the bytes they end with that
        // starts a line in both.
        let tail_len = (0..=same_end)
            .rev()
            .find(|&len| {
                len == 0
                    || is_line_start(old, old.len() - len) && is_line_start(new, new.len() - len)
            })
            .unwrap_or(0);
        let start = lines_back(old, head, CONTEXT_LINES);
        Window {
            old: start..lines_forward(old, old.len() - tail_len, CONTEXT_LINES),
            new: start..lines_forward(new, new.len() - tail_len, CONTEXT_LINES),
            first_line: memchr::memchr_iter(b'\n', &old[..start]).count(),
        }
    }

    fn whole(old: &str, new: &str) -> Window {
        Window {
            old: 0..old.len(),
            new: 0..new.len(),
            first_line: 0,
        }
    }

    /// Whether the hunks `ops` of the window's lines are those of the whole texts: every change
    /// has all its context lines inside the window, or the window reaches the texts' edge.
    fn holds(&self, ops: &[DiffOp], old: &str, new: &str) -> bool {
        let full_context = |op: Option<&DiffOp>| matches!(op, Some(DiffOp::Equal { len, .. }) if *len >= CONTEXT_LINES);
        (self.old.start == 0 || full_context(ops.first()))
            && (self.old.end == old.len() && self.new.end == new.len() || full_context(ops.last()))
    }
}

/// The start of the line that holds byte `at`.
fn line_start(text: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &text[..at]).map_or(0, |newline| newline + 1)
}

fn is_line_start(text: &[u8], at: usize) -> bool {
    at == 0 || text[at - 1] == b'\n'
}

/// The start of the line `lines` lines before the line starting at `at` (the text's start when
/// there are fewer).
fn lines_back(text: &[u8], mut at: usize, lines: usize) -> usize {
    for _ in 0..lines {
        if at == 0 {
            break;
        }
        at = line_start(text, at - 1);
    }
    at
}

/// The end of the line `lines` lines after the line before `at` (the text's end when there are
/// fewer): where `lines` whole lines from `at` end.
fn lines_forward(text: &[u8], mut at: usize, lines: usize) -> usize {
    for _ in 0..lines {
        match memchr::memchr(b'\n', &text[at..]) {
            Some(newline) => at += newline + 1,
            None => return text.len(),
        }
    }
    at
}

/// A hunk's operation moved down by `lines` lines in both texts.
fn shifted(op: DiffOp, lines: usize) -> DiffOp {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => DiffOp::Equal {
            old_index: old_index + lines,
            new_index: new_index + lines,
            len,
        },
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => DiffOp::Delete {
            old_index: old_index + lines,
            old_len,
            new_index: new_index + lines,
        },
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => DiffOp::Insert {
            old_index: old_index + lines,
            new_index: new_index + lines,
            new_len,
        },
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => DiffOp::Replace {
            old_index: old_index + lines,
            old_len,
            new_index: new_index + lines,
            new_len,
        },
    }
}

/// The text's lines as `git apply` reads them: each ends after a `\n`, or at the end of the text.
fn git_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    for newline in memchr::memchr_iter(b'\n', text.as_bytes()) {
        lines.push(&text[start..=newline]);
        start = newline + 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// One patch line: the tag, the line, and for a last line without `\n` git's marker (the
/// marker goes on a line of its own, so the line itself is ended first).
fn write_line(patch: &mut String, tag: ChangeTag, line: &str) {
    patch.push(match tag {
        ChangeTag::Equal => ' ',
        ChangeTag::Delete => '-',
        ChangeTag::Insert => '+',
    });
    patch.push_str(line);
    if !line.ends_with('\n') {
        patch.push_str("\n\\ No newline at end of file\n");
    }
}

/// The path as messages and the JSON and SARIF reports show it: relative to the current
/// directory when it lies below it, without `./` components, with `/` separators, and bytes
/// that are not UTF-8 shown as U+FFFD. Patches name files by [`crate::patch_path`] instead.
///
/// The current directory is read once per process (every file of a run is shown relative to
/// the same one, and asking the kernel for it per file was a system call per file); hardport
/// never changes it.
pub fn display_path(path: &Path) -> String {
    static CWD: OnceLock<Option<PathBuf>> = OnceLock::new();
    let cwd = || CWD.get_or_init(|| std::env::current_dir().ok()).as_deref();
    let relative = match path.is_absolute().then(cwd).flatten() {
        Some(cwd) => path.strip_prefix(cwd).unwrap_or(path),
        None => path,
    };
    let parts: Vec<String> = relative
        .components()
        .filter(|component| !matches!(component, Component::CurDir))
        .map(|component| match component {
            Component::RootDir => String::new(),
            other => other.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    parts.join("/")
}

/// Quote a path the way git does (`core.quotePath`): wrap it in `"` and escape it when it holds
/// a `"`, a `\`, a control character or a byte that is not ASCII (which is how a name that is
/// not UTF-8 gets into a patch, a `String`, intact).
fn quote_path(path: &[u8]) -> String {
    let needs_quotes = path
        .iter()
        .any(|&byte| byte == b'"' || byte == b'\\' || !(0x20..0x7f).contains(&byte));
    if !needs_quotes {
        return path.iter().copied().map(char::from).collect();
    }
    let mut quoted = String::with_capacity(path.len() + 2);
    quoted.push('"');
    for &byte in path {
        match byte {
            b'"' => quoted.push_str("\\\""),
            b'\\' => quoted.push_str("\\\\"),
            b'\t' => quoted.push_str("\\t"),
            b'\n' => quoted.push_str("\\n"),
            b'\r' => quoted.push_str("\\r"),
            0x20..0x7f => quoted.push(char::from(byte)),
            _ => {
                let _ = write!(quoted, "\\{byte:03o}");
            }
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_random::XorShift;

    #[test]
    fn patch_has_git_headers_and_hunks() {
        let patch = unified_diff("app/Dockerfile", "FROM a\nRUN x\n", "FROM b\nRUN x\n");
        assert_eq!(
            patch,
            "diff --git a/app/Dockerfile b/app/Dockerfile\n--- a/app/Dockerfile\n+++ b/app/Dockerfile\n@@ -1,2 +1,2 @@\n-FROM a\n+FROM b\n RUN x\n"
        );
    }

    /// The diff of the whole files, as [`unified_diff`] made it before it looked only at the
    /// window around the changes: the oracle its hunks must match.
    fn whole_file_diff(path: &str, old: &str, new: &str) -> String {
        let (a, b) = (format!("a/{path}"), format!("b/{path}"));
        let mut patch = format!("diff --git {a} {b}\n");
        let (old_lines, new_lines) = (git_lines(old), git_lines(new));
        let diff = TextDiff::configure().diff_slices(&old_lines, &new_lines);
        let mut unified = diff.unified_diff();
        unified.context_radius(CONTEXT_LINES);
        for (index, hunk) in unified.iter_hunks().enumerate() {
            if index == 0 {
                let _ = write!(patch, "--- {a}\n+++ {b}\n");
            }
            let _ = writeln!(patch, "{}", hunk.header());
            for change in hunk.iter_changes() {
                write_line(&mut patch, change.tag(), change.value());
            }
        }
        patch
    }

    /// Found by the random test below: the window ends three lines into the `b` lines the
    /// texts end with, and the diff puts the inserted `b` after two of them, so its context
    /// would be cut at the window's edge. The window does not hold, and the whole files are
    /// diffed.
    #[test]
    fn a_change_slid_to_the_windows_edge_falls_back_to_the_whole_files() {
        let old = "a\n\nc\na\nc\nb\nb\n\nc\ndd\nb\nb\nc\na\n";
        let new = "a\n\ncc\n\na\nc\nb\nb\nb\n\nc\ndd\nb\nb\nc\na\n";
        let window = Window::of(old, new);
        let (old_lines, new_lines) = (
            git_lines(&old[window.old.clone()]),
            git_lines(&new[window.new.clone()]),
        );
        let diff = TextDiff::configure().diff_slices(&old_lines, &new_lines);
        assert!(!window.holds(diff.ops(), old, new));
        let patch = unified_diff("f", old, new);
        assert_eq!(patch, whole_file_diff("f", old, new));
        assert!(patch.contains(" b\n b\n+b\n \n c\n dd\n"), "{patch}");
    }

    /// Random texts of a few distinct lines (repeated lines make the diff's choices matter,
    /// CRLF and a missing final newline its line ends) and random line and byte edits of them.
    #[test]
    fn the_window_gives_the_hunks_of_the_whole_file_diff() {
        const LINES: &[&str] = &["a\n", "b\n", "c\n", "\n", "a\r\n", "dd\n", "a", "e"];
        let mut random = XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut next = |bound: usize| random.below(bound);
        for _ in 0..20_000 {
            let mut old = String::new();
            for _ in 0..next(30) {
                old.push_str(LINES[next(LINES.len())]);
            }
            let mut new = old.clone();
            for _ in 0..=next(4) {
                let at = next(new.len() + 1);
                let at = (at..=new.len())
                    .find(|&at| new.is_char_boundary(at))
                    .unwrap_or(0);
                match next(3) {
                    0 => new.insert_str(at, LINES[next(LINES.len())]),
                    1 => {
                        let end = (at + next(4)).min(new.len());
                        new.replace_range(at..end, "");
                    }
                    _ => new.insert(at, 'x'),
                }
            }
            assert_eq!(
                unified_diff("f", &old, &new),
                whole_file_diff("f", &old, &new),
                "{old:?} -> {new:?}"
            );
        }
    }

    #[test]
    fn lines_end_after_each_newline_as_git_reads_them() {
        for text in ["", "a", "a\n", "a\r\nb", "\n\nb\n", "é\nü"] {
            let expected: Vec<&str> = text.split_inclusive('\n').collect();
            assert_eq!(git_lines(text), expected, "{text:?}");
        }
    }

    #[test]
    fn a_missing_final_newline_is_marked() {
        let patch = unified_diff("Dockerfile", "FROM a", "FROM b");
        assert!(
            patch.contains(
                "-FROM a\n\\ No newline at end of file\n+FROM b\n\\ No newline at end of file\n"
            ),
            "{patch}"
        );
    }

    #[test]
    fn crlf_lines_keep_their_carriage_returns() {
        let patch = unified_diff("Dockerfile", "FROM a\r\nRUN x\r\n", "FROM b\r\nRUN x\r\n");
        assert!(
            patch.contains("-FROM a\r\n+FROM b\r\n RUN x\r\n"),
            "{patch:?}"
        );
    }

    /// Found by the `pipeline` fuzz target (docs/fuzzing.md): `git apply` ends lines at `\n`
    /// only, but the patch also ends them at a lone `\r`, so a file holding one gets a patch
    /// that `git apply` calls corrupt.
    #[test]
    fn a_lone_carriage_return_does_not_end_a_patch_line() {
        let patch = unified_diff("Dockerfile", "FROM a\r", "FROM b\r");
        assert!(
            patch.contains(
                "-FROM a\r\n\\ No newline at end of file\n+FROM b\r\n\\ No newline at end of file\n"
            ),
            "{patch:?}"
        );
        let patch = unified_diff("Dockerfile", "# x\ry\nFROM a\n", "# x\ry\nFROM b\n");
        assert!(patch.contains("\n # x\ry\n-FROM a\n+FROM b\n"), "{patch:?}");
    }

    #[test]
    fn paths_are_quoted_like_git() {
        assert_eq!(
            quote_path(b"a/plain dir/Dockerfile"),
            "a/plain dir/Dockerfile"
        );
        assert_eq!(quote_path(b"a/tab\there"), "\"a/tab\\there\"");
        assert_eq!(quote_path("a/é".as_bytes()), "\"a/\\303\\251\"");
        assert_eq!(quote_path(b"a/\xff/\"q\"\\"), "\"a/\\377/\\\"q\\\"\\\\\"");
    }

    #[test]
    fn display_paths_drop_dot_components() {
        assert_eq!(display_path(Path::new("./a/./Dockerfile")), "a/Dockerfile");
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(display_path(&cwd.join("x/Dockerfile")), "x/Dockerfile");
    }
}
