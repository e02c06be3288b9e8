//! `exec-form` and the shell-form half of `needs-shell`: which shell-form commands exec form can
//! run unchanged, and the finding for each.

use super::Context;
use super::outcome::Findings;
use super::program::program_needs_shell;
use super::render::json_array;
use super::sites::{Plan, Word};
use crate::rules::Rule;
use crate::shell;

/// Words a shell treats specially as a command: exec form cannot run them.
const SHELL_WORDS: &[&str] = &[
    ".", ":", "alias", "break", "builtin", "case", "cd", "command", "continue", "declare", "do",
    "done", "elif", "else", "esac", "eval", "exit", "export", "fi", "for", "function", "getopts",
    "hash", "if", "let", "local", "read", "readonly", "return", "select", "set", "shift", "source",
    "then", "time", "trap", "type", "typeset", "ulimit", "umask", "unset", "until", "wait",
    "while", "[[",
];

/// Shell form on this stage: exec form when it splits exactly and the replacement has no
/// shell; otherwise say that it needs one.
pub(super) fn plan_shell_form(
    context: &Context<'_, '_, '_, '_>,
    plan: &mut Plan<'_, '_>,
    cmd_follows: bool,
    findings: &mut Findings,
) {
    let Some(text) = plan.shell_text() else {
        return;
    };
    if text.trim().is_empty() || context.shell == Some(true) {
        return;
    }
    let site = plan.site;
    let range = site.range(context.file);
    let keyword = site.kind.keyword();
    let split = split_words(text).and_then(|words| match program_needs_shell(&words) {
        Some(reason) => Err(reason),
        None if cmd_follows => {
            Err("ignoring CMD (exec form would append CMD's words to it)".into())
        }
        None => Ok(words),
    });
    match (context.shell, split) {
        (Some(false), Ok(words)) => {
            findings.fixed(
                site.index,
                Rule::ExecForm,
                range,
                format!(
                    "`{keyword} {text}` runs through /bin/sh, which `{}` does not have: written in exec form {}",
                    context.image,
                    json_array(&words)
                ),
            );
            plan.words = Some(
                words
                    .into_iter()
                    .map(|value| Word {
                        value,
                        element: None,
                    })
                    .collect(),
            );
            plan.converted = true;
        }
        (Some(false), Err(reason)) => findings.report(
            site.index,
            Rule::NeedsShell,
            range,
            format!(
                "`{keyword} {text}` needs a shell for {reason}, and `{}` (stage {}) has none",
                context.image,
                context.label(),
            ),
            context.shell_advice(false),
        ),
        (_, split) => {
            let alternative = match split {
                Ok(words) => format!(", or write it in exec form {}", json_array(&words)),
                Err(_) => String::new(),
            };
            findings.report(
                site.index,
                Rule::MissingFact,
                range,
                format!(
                    "`{keyword} {text}` runs through /bin/sh, and the catalog does not say whether `{}` has a shell",
                    context.image,
                ),
                format!("{}{alternative}", context.supply("hardened.shell")),
            );
        }
    }
}

/// The words `/bin/sh -c text` would run, when that needs nothing of the shell but splitting
/// and quote removal; otherwise what needs the shell. The words are the shared shell reader's
/// (`crate::shell`), so exec form gets exactly the words every other rule reads.
pub(super) fn split_words(text: &str) -> Result<Vec<String>, String> {
    if text.trim_start().starts_with('[') {
        return Err("text that is not a JSON array (JSON strings need double quotes)".into());
    }
    if text.contains(['\n', '\r']) {
        return Err("a line continuation".into());
    }
    if let Some(found) = text.chars().find_map(forbidden_anywhere) {
        return Err(found.into());
    }
    let mut words = Vec::new();
    let mut end = 0;
    for token in shell::tokenize(text) {
        let shell::Token::Word(word) = token else {
            continue;
        };
        let range = word.range.clone().unwrap_or(end..end);
        if let Some(syntax) = syntax_between(text.get(end..range.start).unwrap_or_default()) {
            return Err(syntax);
        }
        end = range.end;
        if word.unterminated {
            return Err("an unterminated quote".into());
        }
        if let Some(found) = word.pattern.and_then(forbidden_unquoted) {
            return Err(found.into());
        }
        words.push(word.text);
    }
    if let Some(syntax) = syntax_between(text.get(end..).unwrap_or_default()) {
        return Err(syntax);
    }
    // `exec prog args` replaces the shell with prog: exec form does that already.
    if words.first().is_some_and(|first| first == "exec")
        && words.get(1).is_some_and(|next| !next.starts_with('-'))
    {
        words.remove(0);
    }
    let Some(first) = words.first() else {
        return Err("an empty command".into());
    };
    if let Some((name, _)) = first.split_once('=')
        && is_variable_name(name)
    {
        return Err(format!("the variable assignment `{first}`"));
    }
    if SHELL_WORDS.contains(&first.as_str()) || first == "exec" {
        return Err(format!("the shell builtin `{first}`"));
    }
    Ok(words)
}

/// What the text between two words does besides separating them, if anything: there only
/// blanks may stand, anything else (operators, a comment) is shell syntax.
fn syntax_between(gap: &str) -> Option<String> {
    let ch = gap.chars().find(|ch| *ch != ' ' && *ch != '\t')?;
    Some(match ch {
        '#' => "a comment `#`".into(),
        '|' | '&' if gap.contains(&format!("{ch}{ch}")) => format!("the list operator `{ch}{ch}`"),
        ch => {
            forbidden_unquoted(ch).map_or_else(|| format!("the shell syntax `{ch}`"), str::to_owned)
        }
    })
}

/// Characters that make `sh -c` do more than split words, quoted or not.
pub(super) fn forbidden_anywhere(ch: char) -> Option<&'static str> {
    Some(match ch {
        '\\' => "a backslash escape",
        '`' => "command substitution with backticks",
        '$' => "variable expansion `$`",
        _ => return None,
    })
}

/// Characters that are shell syntax outside quotes.
pub(super) fn forbidden_unquoted(ch: char) -> Option<&'static str> {
    Some(match ch {
        '|' => "a pipe `|`",
        '&' => "a background job `&`",
        ';' => "a command list `;`",
        '<' | '>' => "a redirection `<`/`>`",
        '(' | ')' => "a subshell `(`…`)`",
        '*' | '?' | '[' | ']' => "a glob `*`/`?`/`[`",
        '{' | '}' => "braces `{`…`}`",
        '~' => "tilde expansion `~`",
        '!' => "`!`",
        _ => return None,
    })
}

pub(super) fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}
