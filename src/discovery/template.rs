//! Telling a Dockerfile template from a Dockerfile by its text.
//!
//! A template is not a Dockerfile Docker can build: docker-library's `Dockerfile.template`
//! starts with a jq `{{ def … }}` block, older ones have `FROM alpine:%%ALPINE_VERSION%%`, Go and
//! Jinja templates have `FROM {{ .Base }}` or `{% if … %}` lines. Migrating one would rewrite a
//! base image that is not one (`alpine:%%ALPINE_VERSION%%`) or fail to parse (exit 2), so such a
//! file is skipped with a message. Placeholders are common in real Dockerfiles too (`RUN docker
//! inspect -f '{{.Id}}'`, a Jinja config written by a heredoc), so the text alone decides only
//! when the placeholder is in a `FROM` line, where Docker would refuse it, or in the line where
//! the file stops parsing (see `crate::migrate`): a real Dockerfile with a `{{.Id}}` in a `RUN`
//! and an error elsewhere is still an error.

/// A template placeholder in a file: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// 1-based line.
    pub line: usize,
    /// The placeholder as written (`%%ALPINE_VERSION%%`, `{{ env.variant }}`), shortened to
    /// [`MAX_SHOWN`] characters.
    pub text: String,
    /// Whether the line is a `FROM` instruction.
    pub on_from: bool,
}

/// How much of a placeholder a message shows.
const MAX_SHOWN: usize = 40;

/// The first placeholder in a `FROM` line of `text`.
///
/// This runs on every Dockerfile of a walk, so a text that holds no placeholder's opening at
/// all is passed over in one search, and otherwise only `FROM` lines are searched.
pub fn placeholder_in_from(text: &str) -> Option<Placeholder> {
    let bytes = text.as_bytes();
    let opens = |open: &str| memchr::memmem::find(bytes, open.as_bytes()).is_some();
    if !(opens("%%") || opens("{{") || opens("{%")) {
        return None;
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| is_from(line))
        .find_map(|(index, line)| placeholder(index + 1, line))
}

/// The placeholder in line `line` (1-based) of `text`, if there is one: for the line a parser
/// stopped at.
pub fn placeholder_at(text: &str, line: usize) -> Option<Placeholder> {
    let text_of_line = text.lines().nth(line.checked_sub(1)?)?;
    placeholder(line, text_of_line)
}

/// The first placeholder of `text_of_line`, which is line `line` of its file.
fn placeholder(line: usize, text_of_line: &str) -> Option<Placeholder> {
    let found = placeholder_in_line(text_of_line)?;
    Some(Placeholder {
        line,
        text: found.chars().take(MAX_SHOWN).collect(),
        on_from: is_from(text_of_line),
    })
}

/// Whether the first word of `line` is `FROM`, in any case.
fn is_from(line: &str) -> bool {
    let line = line.trim_start();
    line.get(..4)
        .is_some_and(|keyword| keyword.eq_ignore_ascii_case("FROM"))
        && line[4..].chars().next().is_none_or(char::is_whitespace)
}

/// The first placeholder in one line: `%%NAME%%` (docker-library's sed templates), `{{ … }}`
/// (Go, jq, Jinja, Mustache expressions) or `{% … %}` (Jinja statements), closed on the line; or
/// a line that opens a `{{` or `{%` block (a jq `{{` alone on line 1).
fn placeholder_in_line(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("{{") || trimmed.starts_with("{%") {
        return Some(trimmed.trim_end());
    }
    [("%%", "%%"), ("{{", "}}"), ("{%", "%}")]
        .iter()
        .filter_map(|(open, close)| enclosed(line, open, close))
        .min_by_key(|found| found.as_ptr() as usize)
}

/// The first `open … close` in `line` (`%%NAME%%` only with a name between).
fn enclosed<'l>(line: &'l str, open: &str, close: &str) -> Option<&'l str> {
    let mut from = 0;
    while let Some(start) = line[from..].find(open).map(|at| from + at) {
        let inner_start = start + open.len();
        let end = line[inner_start..].find(close)? + inner_start;
        let inner = &line[inner_start..end];
        let named =
            !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if open != "%%" || named {
            return Some(&line[start..end + close.len()]);
        }
        from = start + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_library_placeholders_in_from_are_found() {
        let text = "# comment\nFROM alpine:%%ALPINE_VERSION%%\nENV V %%VERSION%%\n";
        assert_eq!(
            placeholder_in_from(text),
            Some(Placeholder {
                line: 2,
                text: "%%ALPINE_VERSION%%".into(),
                on_from: true
            })
        );
        let go = "from {{ .Base }} AS build\n";
        assert_eq!(
            placeholder_in_from(go).map(|found| found.text),
            Some("{{ .Base }}".into())
        );
    }

    #[test]
    fn placeholders_outside_from_decide_nothing_alone() {
        let text = "FROM alpine:3.20\nRUN docker inspect -f '{{.Id}}' x && printf '100%%'\n";
        assert_eq!(placeholder_in_from(text), None);
        assert_eq!(
            placeholder_at(text, 2),
            Some(Placeholder {
                line: 2,
                text: "{{.Id}}".into(),
                on_from: false
            })
        );
    }

    #[test]
    fn a_jq_block_and_jinja_statements_are_placeholders() {
        let jq = "{{\n\tdef is_alpine:\n\t\tenv.from | startswith(\"alpine\")\n;\n}}\nFROM {{ env.from }}\n";
        assert!(placeholder_at(jq, 1).is_some());
        assert_eq!(placeholder_in_from(jq).map(|found| found.line), Some(6));
        let jinja = "{% if slim %}\nFROM python:3.12-slim\n{% endif %}\n";
        assert!(placeholder_at(jinja, 1).is_some());
        assert_eq!(
            placeholder_at(jinja, 3).map(|found| found.text),
            Some("{% endif %}".into())
        );
        assert_eq!(placeholder_at(jinja, 2), None);
        assert_eq!(placeholder_in_from(jinja), None);
    }

    #[test]
    fn percent_signs_without_a_name_are_not_placeholders() {
        assert_eq!(placeholder_at("FROM a\nRUN printf '%% done %%'\n", 2), None);
        assert_eq!(placeholder_at("FROM a\nRUN echo 10%%\n", 2), None);
        assert_eq!(placeholder_at("FROM a\nRUN echo %%%%\n", 2), None);
        assert_eq!(placeholder_at("FROM 10%%\n", 1), None);
        assert_eq!(placeholder_at("FROM a\n", 0), None);
    }

    #[test]
    fn only_the_from_keyword_makes_a_from_line() {
        assert!(is_from("  from\t{{ .Base }}"));
        assert!(is_from("FROM"));
        assert!(!is_from("FROMAGE {{ x }}"));
        assert!(!is_from("RUN FROM"));
        assert_eq!(placeholder_in_from("FROMAGE {{ x }}\n"), None);
        assert_eq!(
            placeholder_in_from("RUN {{ x }}\n FROM %%BASE%%\n").map(|found| found.line),
            Some(2)
        );
    }

    #[test]
    fn long_placeholders_are_shortened() {
        let text = format!("FROM {{{{ {} }}}}\n", "x".repeat(100));
        let found = placeholder_in_from(&text).expect("found");
        assert_eq!(found.text.chars().count(), MAX_SHOWN);
    }
}
