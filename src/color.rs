//! Terminal colour: when to use it, and the patch and severities coloured like `git diff`.
//!
//! The patch on stdout is the input of `git apply`, so under `--color auto` it is coloured only
//! when stdout is a terminal — never into a pipe or a file, whatever the environment says.
//! Messages on stderr are for people only; there `CLICOLOR_FORCE` may force colour too.

use anstyle::{AnsiColor, Style};

use crate::diagnostic::Severity;

/// The `--color` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Colour a terminal, unless the environment asks for none.
    Auto,
    Always,
    Never,
}

/// What a stream carries, which decides whether `CLICOLOR_FORCE` may colour it off a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The product (the patch): tools read it, so `auto` colours only a terminal.
    Product,
    /// Findings and summaries for a person.
    Messages,
}

/// Whether to colour `stream`, from the `--color` choice, whether the stream is a terminal, and
/// the environment (`var` reads one variable).
///
/// `always` and `never` win over the environment. Under `auto`: `NO_COLOR` (non-empty),
/// `CLICOLOR=0` or `TERM=dumb` turn colour off; otherwise a terminal gets colour, and messages
/// off a terminal get it only with `CLICOLOR_FORCE` (non-empty, not `0`).
pub fn enabled(
    when: When,
    stream: Stream,
    is_terminal: bool,
    var: impl Fn(&str) -> Option<String>,
) -> bool {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    match when {
        When::Always => true,
        When::Never => false,
        When::Auto => {
            if set("NO_COLOR").is_some()
                || set("CLICOLOR").is_some_and(|value| value == "0")
                || set("TERM").is_some_and(|value| value == "dumb")
            {
                false
            } else if is_terminal {
                true
            } else {
                stream == Stream::Messages
                    && set("CLICOLOR_FORCE").is_some_and(|value| value != "0")
            }
        }
    }
}

/// `git diff`'s styles: file headers bold, hunk headers cyan, removals red, additions green.
const HEADER: Style = Style::new().bold();
const HUNK: Style = AnsiColor::Cyan.on_default();
const REMOVED: Style = AnsiColor::Red.on_default();
const ADDED: Style = AnsiColor::Green.on_default();

/// `text` in `style`, reset after it.
fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// A severity word coloured by urgency: errors red, warnings yellow, info cyan, all bold.
pub fn severity(severity: Severity) -> String {
    let color = match severity {
        Severity::Error => AnsiColor::Red,
        Severity::Warning => AnsiColor::Yellow,
        Severity::Info => AnsiColor::Cyan,
    };
    paint(color.on_default().bold(), severity.as_str())
}

/// A patch coloured as `git diff` colours one: file headers bold, hunk headers cyan, removed
/// lines red, added lines green, context plain. The reset comes before each line ending, so a
/// CRLF line keeps its `\r` outside the colour.
pub fn diff(patch: &str) -> String {
    let mut out = String::with_capacity(patch.len() + patch.len() / 4);
    let mut in_header = false;
    for line in patch.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let ending = &line[content.len()..];
        if content.starts_with("diff --git ") {
            in_header = true;
        } else if content.starts_with("@@") {
            in_header = false;
        }
        let style = if in_header {
            Some(HEADER)
        } else if content.starts_with("@@") {
            Some(HUNK)
        } else if content.starts_with('+') {
            Some(ADDED)
        } else if content.starts_with('-') {
            Some(REMOVED)
        } else {
            None
        };
        match style {
            Some(style) if !content.is_empty() => out.push_str(&paint(style, content)),
            _ => out.push_str(content),
        }
        out.push_str(ending);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn auto_colours_a_terminal_and_never_a_piped_patch() {
        assert!(enabled(When::Auto, Stream::Product, true, env(&[])));
        assert!(!enabled(When::Auto, Stream::Product, false, env(&[])));
        assert!(!enabled(
            When::Auto,
            Stream::Product,
            false,
            env(&[("CLICOLOR_FORCE", "1")])
        ));
    }

    #[test]
    fn clicolor_force_colours_messages_off_a_terminal() {
        assert!(enabled(
            When::Auto,
            Stream::Messages,
            false,
            env(&[("CLICOLOR_FORCE", "1")])
        ));
        assert!(!enabled(
            When::Auto,
            Stream::Messages,
            false,
            env(&[("CLICOLOR_FORCE", "0")])
        ));
        assert!(!enabled(When::Auto, Stream::Messages, false, env(&[])));
    }

    #[test]
    fn no_color_and_dumb_terminals_turn_auto_off_but_not_always() {
        for off in [("NO_COLOR", "1"), ("CLICOLOR", "0"), ("TERM", "dumb")] {
            assert!(!enabled(When::Auto, Stream::Product, true, env(&[off])));
            assert!(enabled(When::Always, Stream::Product, false, env(&[off])));
        }
        assert!(enabled(
            When::Auto,
            Stream::Product,
            true,
            env(&[("NO_COLOR", "")])
        ));
        assert!(!enabled(When::Never, Stream::Messages, true, env(&[])));
    }

    #[test]
    fn a_patch_is_coloured_by_line_kind() {
        let patch = "diff --git a/D b/D\n--- a/D\n+++ b/D\n@@ -1,2 +1,2 @@\n-FROM a\r\n+FROM b\r\n RUN x\n\\ No newline at end of file\n";
        let coloured = diff(patch);
        assert!(coloured.starts_with("\x1b[1mdiff --git a/D b/D\x1b[0m\n\x1b[1m--- a/D\x1b[0m\n"));
        assert!(coloured.contains("\x1b[36m@@ -1,2 +1,2 @@\x1b[0m\n"));
        assert!(coloured.contains("\x1b[31m-FROM a\x1b[0m\r\n\x1b[32m+FROM b\x1b[0m\r\n RUN x\n"));
        let stripped = coloured
            .replace("\x1b[1m", "")
            .replace("\x1b[36m", "")
            .replace("\x1b[31m", "")
            .replace("\x1b[32m", "")
            .replace("\x1b[0m", "");
        assert_eq!(stripped, patch);
    }

    #[test]
    fn a_removed_line_that_looks_like_a_header_is_red() {
        let coloured = diff("diff --git a/D b/D\n--- a/D\n+++ b/D\n@@ -1 +1 @@\n--- x\n+++ y\n");
        assert!(coloured.ends_with("\x1b[31m--- x\x1b[0m\n\x1b[32m+++ y\x1b[0m\n"));
    }
}
