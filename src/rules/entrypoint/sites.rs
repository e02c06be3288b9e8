//! The ENTRYPOINT, CMD and HEALTHCHECK a runnable stage ends up with, and what hardport plans to
//! write for each.

use std::ops::Range;

use parse_dockerfile::{Command, HealthcheckArguments, Instruction};

use super::program::passes_through;
use super::render::{Style, arguments_range, json_escape, raw_element};
use crate::diagnostic::Edit;
use crate::dockerfile::Dockerfile;
use crate::stages::StageModel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Entrypoint,
    Cmd,
    Healthcheck,
}

impl Kind {
    pub(super) fn keyword(self) -> &'static str {
        match self {
            Kind::Entrypoint => "ENTRYPOINT",
            Kind::Cmd => "CMD",
            Kind::Healthcheck => "HEALTHCHECK CMD",
        }
    }
}

/// An ENTRYPOINT, CMD or HEALTHCHECK instruction that decides what a runnable stage runs.
#[derive(Clone, Copy)]
pub(super) struct Site<'f, 'a> {
    /// Index into the file's instructions.
    pub(super) index: usize,
    pub(super) kind: Kind,
    pub(super) instruction: &'f Instruction<'a>,
    pub(super) command: &'f Command<'a>,
}

impl Site<'_, '_> {
    pub(super) fn range(&self, file: &Dockerfile<'_>) -> Range<usize> {
        file.instruction_range(self.instruction)
            .unwrap_or_else(|| arguments_range(file, self.command).unwrap_or(0..0))
    }
}

/// The instructions that are in effect at the end of a stage chain, as Docker computes them:
/// ENTRYPOINT resets a CMD set in an earlier stage, not one set before it in the same stage.
#[derive(Default)]
pub(super) struct Effective<'f, 'a> {
    pub(super) entrypoint: Option<Site<'f, 'a>>,
    pub(super) cmd: Option<Site<'f, 'a>>,
    pub(super) healthcheck: Option<Site<'f, 'a>>,
}

pub(super) fn effective<'f, 'a>(
    model: &StageModel<'f, 'a, '_>,
    chain: &[usize],
) -> Effective<'f, 'a> {
    let file: &'f Dockerfile<'a> = model.file;
    let instructions = file.instructions();
    let mut found = Effective::default();
    for stage in chain.iter().filter_map(|&index| model.stages.get(index)) {
        let mut cmd_here = false;
        for index in stage.body() {
            let Some(instruction) = instructions.get(index) else {
                continue;
            };
            let site = |kind, command| Site {
                index,
                kind,
                instruction,
                command,
            };
            match instruction {
                Instruction::Entrypoint(entrypoint) => {
                    found.entrypoint = Some(site(Kind::Entrypoint, &entrypoint.arguments));
                    if !cmd_here {
                        found.cmd = None;
                    }
                }
                Instruction::Cmd(cmd) => {
                    found.cmd = Some(site(Kind::Cmd, &cmd.arguments));
                    cmd_here = true;
                }
                Instruction::Healthcheck(healthcheck) => {
                    found.healthcheck = match &healthcheck.arguments {
                        HealthcheckArguments::Cmd { arguments, .. } => {
                            Some(site(Kind::Healthcheck, arguments))
                        }
                        _ => None,
                    };
                }
                _ => {}
            }
        }
    }
    found
}

/// One word of an exec-form command, and the array element it was written as, if any.
#[derive(Debug, Clone)]
pub(super) struct Word {
    pub(super) value: String,
    pub(super) element: Option<usize>,
}

/// What hardport will make of one site.
pub(super) struct Plan<'f, 'a> {
    pub(super) site: Site<'f, 'a>,
    /// The words of the command in exec form: `None` while it stays in shell form.
    pub(super) words: Option<Vec<Word>>,
    /// Written in exec form from shell form by this run.
    pub(super) converted: bool,
    /// How many elements the exec-form array has as written.
    pub(super) written: usize,
}

impl<'f, 'a> Plan<'f, 'a> {
    pub(super) fn new(site: Site<'f, 'a>) -> Self {
        let (words, written) = match site.command {
            Command::Exec(exec) => (
                Some(
                    exec.value
                        .iter()
                        .enumerate()
                        .map(|(index, element)| Word {
                            value: element.value.to_string(),
                            element: Some(index),
                        })
                        .collect(),
                ),
                exec.value.len(),
            ),
            _ => (None, 0),
        };
        Plan {
            site,
            words,
            converted: false,
            written,
        }
    }

    pub(super) fn values(&self) -> Option<Vec<String>> {
        self.words
            .as_ref()
            .map(|words| words.iter().map(|word| word.value.clone()).collect())
    }

    /// The argv the command runs as written after this pass: shell form is `/bin/sh -c`.
    pub(super) fn argv(&self) -> Vec<String> {
        match (self.values(), self.shell_text()) {
            (Some(words), _) => words,
            (None, Some(text)) => vec!["/bin/sh".into(), "-c".into(), text.to_owned()],
            (None, None) => Vec::new(),
        }
    }

    pub(super) fn shell_text(&self) -> Option<&'a str> {
        match self.site.command {
            Command::Shell(shell) => Some(shell.value),
            _ => None,
        }
    }

    /// An ENTRYPOINT that runs its arguments (empty, an init wrapper, an entrypoint script):
    /// the CMD is the program.
    pub(super) fn runs_its_arguments(&self) -> bool {
        self.values().is_some_and(|words| passes_through(&words))
    }

    /// Whether the planned words differ from the array as written: converted from shell form,
    /// or elements dropped, added or replaced.
    pub(super) fn changed(&self) -> bool {
        self.converted
            || self.words.as_ref().is_some_and(|words| {
                words.len() != self.written
                    || words
                        .iter()
                        .enumerate()
                        .any(|(index, word)| word.element != Some(index))
            })
    }

    /// The edit that writes the planned exec-form array over the arguments.
    pub(super) fn edit(&self, file: &Dockerfile<'_>) -> Option<Edit> {
        let words = self.words.as_ref()?;
        let range = arguments_range(file, self.site.command)?;
        let text = match self.site.command {
            Command::Exec(exec) => {
                let style = Style::of(file, &exec.span, &exec.value);
                style.render(words.iter().map(|word| {
                    word.element
                        .and_then(|index| exec.value.get(index))
                        .and_then(|element| raw_element(file, element))
                        .map_or_else(|| json_escape(&word.value), str::to_owned)
                }))
            }
            _ => Style::default().render(words.iter().map(|word| json_escape(&word.value))),
        };
        Some(Edit::replace(range, text))
    }
}

pub(super) fn values(words: &[Word]) -> Vec<String> {
    words.iter().map(|word| word.value.clone()).collect()
}
