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
use std::path::{Component, Path};

use similar::{ChangeTag, TextDiff};

/// Lines of context around each change, as `git diff` uses.
const CONTEXT_LINES: usize = 3;

/// A `diff --git` patch turning `old` into `new` for the file at `path` (relative, with `/`
/// separators, as bytes: see [`crate::patch_path`]).
pub fn unified_diff(path: impl AsRef<[u8]>, old: &str, new: &str) -> String {
    let path = path.as_ref();
    let a = quote_path(&[b"a/", path].concat());
    let b = quote_path(&[b"b/", path].concat());
    let mut patch = format!("diff --git {a} {b}\n");
    let old_lines = git_lines(old);
    let new_lines = git_lines(new);
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
pub fn display_path(path: &Path) -> String {
    let cwd = || std::env::current_dir().ok();
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

    #[test]
    fn patch_has_git_headers_and_hunks() {
        let patch = unified_diff("app/Dockerfile", "FROM a\nRUN x\n", "FROM b\nRUN x\n");
        assert_eq!(
            patch,
            "diff --git a/app/Dockerfile b/app/Dockerfile\n--- a/app/Dockerfile\n+++ b/app/Dockerfile\n@@ -1,2 +1,2 @@\n-FROM a\n+FROM b\n RUN x\n"
        );
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
