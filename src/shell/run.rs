//! The commands a Dockerfile `RUN` executes, as far as its text tells.
//!
//! Shell form is read as a script; exec form is its words, and a shell it runs with `-c` has its
//! script read too (also inside shell form: `sh -c '…'`, up to [`MAX_SCRIPT_DEPTH`] levels). A
//! heredoc is a script when the `RUN` runs nothing else and the heredoc's `#!` line, if any,
//! names a shell (`RUN <<EOF`), or when the command is a shell (`RUN bash <<EOF`); otherwise it is
//! input data (`RUN cat <<EOF > /etc/x`). Words carry their range in the file where the file
//! holds their text as is, so a rule may edit them.

use std::ops::Range;

use parse_dockerfile::{Command, RunInstruction};

use super::{SimpleCommand, Word, simple_commands};
use crate::dockerfile::Dockerfile;
use crate::rules::{SHELLS, basename};

/// How deep `sh -c '…'` scripts are followed.
pub const MAX_SCRIPT_DEPTH: usize = 4;

/// Every simple command a `RUN` executes, in order, `sh -c` scripts after the command that
/// runs them.
pub fn commands<'a>(file: &Dockerfile<'a>, run: &RunInstruction<'a>) -> Vec<SimpleCommand> {
    let mut commands = command_line(file, &run.arguments);
    let line_runs_something = !commands.is_empty();
    let runs_shell = commands
        .first()
        .and_then(SimpleCommand::program)
        .is_some_and(|program| SHELLS.contains(&program));
    for here_doc in &run.here_docs {
        let body = here_doc.value.as_ref();
        if runs_shell || (!line_runs_something && shebang_is_shell(body)) {
            let origin = origin(file, &here_doc.span, body);
            read_script(file.text(), body, origin, 0, &mut commands);
        }
    }
    commands
}

/// The simple commands of an instruction's command line (`RUN`, `ENTRYPOINT`, `CMD`): exec-form
/// words, or shell form read as a script (shell form runs under `/bin/sh -c`), with `sh -c`
/// scripts after the command that runs them.
pub fn command_line<'a>(file: &Dockerfile<'a>, command: &Command<'a>) -> Vec<SimpleCommand> {
    let mut commands = Vec::new();
    match command {
        Command::Exec(exec) => {
            let words = exec
                .value
                .iter()
                .map(|element| {
                    let range = file.token(element).map(|token| token.range());
                    Word::literal(element.value.to_string(), range)
                })
                .collect();
            let command = SimpleCommand {
                words,
                writes: Vec::new(),
            };
            push(file.text(), command, 0, &mut commands);
        }
        Command::Shell(shell) => {
            let origin = origin(file, &shell.span, shell.value);
            read_script(file.text(), shell.value, origin, 0, &mut commands);
        }
        _ => {}
    }
    commands
}

/// The simple commands of an exec-form command line given as its words (no file ranges), with
/// a shell's `-c` script read too.
pub fn argv_commands(words: Vec<String>) -> Vec<SimpleCommand> {
    let words = words
        .into_iter()
        .map(|word| Word::literal(word, None))
        .collect();
    let mut commands = Vec::new();
    let command = SimpleCommand {
        words,
        writes: Vec::new(),
    };
    push("", command, 0, &mut commands);
    commands
}

/// The simple commands of shell text that is not in a file (no ranges), `-c` scripts included.
pub fn script_commands(script: &str) -> Vec<SimpleCommand> {
    let mut commands = Vec::new();
    read_script("", script, None, 0, &mut commands);
    commands
}

/// Where `text` starts in the file, when the parser's `span` holds it byte for byte.
fn origin(file: &Dockerfile<'_>, span: &Range<usize>, text: &str) -> Option<usize> {
    let range = file.range(span);
    file.text()
        .get(range.start..)
        .is_some_and(|rest| rest.starts_with(text))
        .then_some(range.start)
}

/// Read `script` (found at offset `origin` of `source`, the file's text, if known) into
/// `commands`.
fn read_script(
    source: &str,
    script: &str,
    origin: Option<usize>,
    depth: usize,
    commands: &mut Vec<SimpleCommand>,
) {
    for mut command in simple_commands(script) {
        for word in command.words.iter_mut().chain(command.writes.iter_mut()) {
            word.range = match (origin, word.range.take()) {
                (Some(origin), Some(range)) => Some(origin + range.start..origin + range.end),
                _ => None,
            };
        }
        push(source, command, depth, commands);
    }
}

/// Record one simple command, then the script of a shell it runs with `-c`.
fn push(source: &str, command: SimpleCommand, depth: usize, commands: &mut Vec<SimpleCommand>) {
    let script = match command.program() {
        Some(program) if SHELLS.contains(&program) && depth < MAX_SCRIPT_DEPTH => {
            shell_script(source, command.argv().get(1..).unwrap_or_default())
        }
        _ => None,
    };
    commands.push(command);
    if let Some((script, origin)) = script {
        read_script(source, &script, origin, depth + 1, commands);
    }
}

/// The script of `sh [-opts] -c SCRIPT …`, and where its text starts in `source` (the file's
/// text) when the word holds it verbatim, between its quotes or bare.
fn shell_script(source: &str, args: &[Word]) -> Option<(String, Option<usize>)> {
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if word.text.starts_with("--") {
            continue;
        }
        match word.text.strip_prefix('-') {
            Some(flags) if flags.contains('c') => {
                let script = words.next()?;
                let origin = script.text_range(source).map(|range| range.start);
                return Some((script.text.clone(), origin));
            }
            Some(flags) if flags.contains('o') => {
                let _ = words.next();
            }
            Some(_) => {}
            None => return None,
        }
    }
    None
}

/// Whether a heredoc body runs under a shell: no `#!` line, or one that names a shell.
fn shebang_is_shell(body: &str) -> bool {
    let Some(shebang) = body.strip_prefix("#!") else {
        return true;
    };
    let line = shebang.lines().next().unwrap_or_default();
    let mut parts = line.split_whitespace();
    let mut interpreter = parts.next().map(basename).unwrap_or_default();
    if interpreter == "env" {
        interpreter = parts
            .find(|part| !part.starts_with('-'))
            .map(basename)
            .unwrap_or_default();
    }
    SHELLS.contains(&interpreter)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each command's words: their text, and the file bytes their range covers.
    type Read = Vec<Vec<(String, Option<String>)>>;

    fn first_run_commands(text: &str) -> (String, Read) {
        let file = crate::dockerfile::parse(text).expect("parses");
        let run = file
            .instructions()
            .iter()
            .find_map(|instruction| match instruction {
                parse_dockerfile::Instruction::Run(run) => Some(run),
                _ => None,
            })
            .expect("a RUN");
        let commands = commands(&file, run)
            .into_iter()
            .map(|command| {
                command
                    .words
                    .iter()
                    .map(|word| {
                        let raw = word.range.clone().map(|range| text[range].to_owned());
                        (word.text.clone(), raw)
                    })
                    .collect()
            })
            .collect();
        (text.to_owned(), commands)
    }

    fn words(commands: &Read) -> Vec<Vec<&str>> {
        commands
            .iter()
            .map(|command| command.iter().map(|(text, _)| text.as_str()).collect())
            .collect()
    }

    #[test]
    fn shell_form_words_carry_their_file_ranges() {
        let (_, commands) =
            first_run_commands("FROM x\nRUN apt-get update \\\n  && chown -R node:node /app\n");
        assert_eq!(
            words(&commands),
            [
                vec!["apt-get", "update"],
                vec!["chown", "-R", "node:node", "/app"]
            ]
        );
        let (text, raw) = &commands[1][2];
        assert_eq!(raw.as_deref(), Some(text.as_str()));
    }

    #[test]
    fn sh_c_scripts_are_read_with_ranges_inside_the_quotes() {
        let (_, commands) = first_run_commands("FROM x\nRUN su-exec root sh -c 'chown node /d'\n");
        assert_eq!(
            words(&commands),
            [
                vec!["su-exec", "root", "sh", "-c", "chown node /d"],
                vec!["chown", "node", "/d"]
            ]
        );
        assert_eq!(commands[1][1].1.as_deref(), Some("node"));
    }

    #[test]
    fn exec_form_and_its_shell_script() {
        let (_, commands) =
            first_run_commands("FROM x\nRUN [\"/bin/sh\", \"-ec\", \"npm ci; chown node x\"]\n");
        assert_eq!(
            words(&commands),
            [
                vec!["/bin/sh", "-ec", "npm ci; chown node x"],
                vec!["npm", "ci"],
                vec!["chown", "node", "x"]
            ]
        );
        assert_eq!(commands[2][1].1.as_deref(), Some("node"));
    }

    #[test]
    fn heredocs_are_scripts_only_when_a_shell_runs_them() {
        let script = "FROM x\nRUN <<EOF\napt-get update\nchown node /app\nEOF\n";
        let (_, commands) = first_run_commands(script);
        assert_eq!(
            words(&commands),
            [vec!["apt-get", "update"], vec!["chown", "node", "/app"]]
        );
        assert_eq!(commands[1][1].1.as_deref(), Some("node"));
        let data = "FROM x\nRUN <<EOF cat > /etc/x\nchown node /app\nEOF\n";
        assert_eq!(words(&first_run_commands(data).1), [vec!["cat"]]);
        let python = "FROM x\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n";
        assert!(first_run_commands(python).1.is_empty());
        let bash = "FROM x\nRUN <<EOF bash -e\nnpm ci\nEOF\n";
        assert_eq!(
            words(&first_run_commands(bash).1),
            [vec!["bash", "-e"], vec!["npm", "ci"]]
        );
    }
}
