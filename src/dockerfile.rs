//! Dockerfile adapter over the `parse-dockerfile` crate.
//!
//! The crate gives typed instructions with byte spans, honours `# escape=` and heredocs, but
//! reports spans 3 bytes short after a UTF-8 byte-order mark: it strips the BOM (one, as Docker
//! does) and counts from after it. This module adds its length back, so every range it hands
//! out indexes the original text, and it exposes only tokens whose source bytes are exactly
//! their value ([`Token`]): text with a line continuation or escape inside is never edited,
//! because a byte edit could not keep its meaning.

use std::collections::HashMap;
use std::ops::Range;

use crate::diagnostic::Edit;
use crate::line_index::LineIndex;

use parse_dockerfile::{
    ArgInstruction, Command, Flag, HealthcheckArguments, Instruction, JsonOrStringArray,
    UnescapedString,
};

const BOM: &str = "\u{feff}";

/// A parsed Dockerfile whose ranges index the original text (BOM included).
#[derive(Debug)]
pub struct Dockerfile<'a> {
    text: &'a str,
    bom_len: usize,
    ast: parse_dockerfile::Dockerfile<'a>,
}

/// Why a Dockerfile could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// 1-based line, when the parser knows it.
    pub line: Option<usize>,
    pub message: String,
}

/// Parse `text` as a Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile<'_>, ParseError> {
    let bom_len = if text.starts_with(BOM) { BOM.len() } else { 0 };
    let ast = parse_dockerfile::parse(text).map_err(|error| match emptiness(text) {
        Some(message) => ParseError {
            line: None,
            message: message.into(),
        },
        None => ParseError {
            line: Some(error.line()).filter(|&line| line > 0),
            message: error.to_string(),
        },
    })?;
    let file = Dockerfile { text, bom_len, ast };
    let mut stages = file
        .instructions()
        .iter()
        .filter(|instruction| matches!(instruction, Instruction::From(_)));
    if let Some(from) = stages.nth(MAX_STAGES) {
        return Err(ParseError {
            line: file
                .instruction_range(from)
                .map(|range| LineIndex::new(text).line(range.start)),
            message: format!("more than {MAX_STAGES} stages (hardport's per-file limit)"),
        });
    }
    Ok(file)
}

/// How many stages (`FROM` lines) a Dockerfile may have: the per-file work budget of a
/// Dockerfile. The rules follow every stage's `FROM` chain and the stages it copies from, so
/// some questions cost the number of stages squared (a reference with variables, `FROM
/// ${BASE}-x`, is compared with the earlier stage names; a stage family walks what it reaches).
/// Real Dockerfiles have up to about 50 (the corpus's largest has 49); at this limit those
/// costs stay within a second or two.
pub const MAX_STAGES: usize = 5_000;

/// Why a text holds no instruction at all, when it holds none: Docker refuses to build such a
/// file, so it is an error, named plainly rather than as a missing `FROM`.
fn emptiness(text: &str) -> Option<&'static str> {
    let mut lines = text.trim_start_matches(BOM).lines().map(str::trim);
    if text.trim_start_matches(BOM).trim().is_empty() {
        Some("no instructions (the file is empty)")
    } else if lines.all(|line| line.is_empty() || line.starts_with('#')) {
        Some("no instructions (only comments and blank lines)")
    } else {
        None
    }
}

/// A piece of the source whose bytes are exactly its value, so it can be replaced in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    pub start: usize,
}

impl<'a> Token<'a> {
    pub fn range(&self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }

    /// The sub-token at `offset..offset + len` of this token's text.
    fn slice(&self, range: Range<usize>) -> Option<Token<'a>> {
        Some(Token {
            text: self.text.get(range.clone())?,
            start: self.start + range.start,
        })
    }

    /// The token without one pair of matching surrounding quotes, if it has them.
    pub fn unquoted(self) -> Token<'a> {
        let bytes = self.text.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(&open), Some(&close))
                if bytes.len() >= 2 && open == close && (open == b'"' || open == b'\'') =>
            {
                self.slice(1..self.text.len() - 1).unwrap_or(self)
            }
            _ => self,
        }
    }
}

/// One `name[=default]` of an `ARG` instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDeclaration<'a> {
    pub name: &'a str,
    /// The default value, unquoted; `None` for `ARG NAME` with no default.
    pub default: Option<Token<'a>>,
}

impl<'a> Dockerfile<'a> {
    pub fn text(&self) -> &'a str {
        self.text
    }

    pub fn instructions(&self) -> &[Instruction<'a>] {
        &self.ast.instructions
    }

    /// Map a span reported by the parser to a range of the original text.
    pub fn range(&self, span: &Range<usize>) -> Range<usize> {
        span.start + self.bom_len..span.end + self.bom_len
    }

    /// The string as an editable token, or `None` when its source bytes differ from its value
    /// (line continuations, escapes).
    pub fn token(&self, string: &UnescapedString<'a>) -> Option<Token<'a>> {
        let range = self.range(&string.span);
        let text = self.text.get(range.clone())?;
        (text == string.value.as_ref()).then_some(Token {
            text,
            start: range.start,
        })
    }

    /// The value token of the flag `--name=value`, matched case-insensitively, unquoted.
    pub fn flag_value(&self, flags: &[Flag<'a>], name: &str) -> Option<Token<'a>> {
        flags
            .iter()
            .find(|flag| flag.name.value.eq_ignore_ascii_case(name))
            .and_then(|flag| flag.value.as_ref())
            .and_then(|value| self.token(value))
            .map(Token::unquoted)
    }

    /// The `from=` values of a `RUN`'s `--mount` options: stages or images it reads.
    pub fn mount_sources<'r>(
        &'r self,
        run: &'r parse_dockerfile::RunInstruction<'a>,
    ) -> impl Iterator<Item = Token<'a>> + 'r {
        run.options
            .iter()
            .filter(|flag| flag.name.value.eq_ignore_ascii_case("mount"))
            .filter_map(|flag| flag.value.as_ref().and_then(|value| self.token(value)))
            .filter_map(|mount| option_field(mount, "from"))
    }

    /// The declarations of an `ARG` instruction; empty when its text cannot be edited in place.
    pub fn arg_declarations(&self, arg: &ArgInstruction<'a>) -> Vec<ArgDeclaration<'a>> {
        self.token(&arg.arguments)
            .map(split_declarations)
            .unwrap_or_default()
    }
}

impl<'a> Dockerfile<'a> {
    /// The byte range of an instruction in the original text, from its keyword to the end of
    /// its last part (heredoc bodies included), without the line break. `None` only for an
    /// instruction kind this adapter does not know.
    pub fn instruction_range(&self, instruction: &Instruction<'_>) -> Option<Range<usize>> {
        let mut spans = Vec::new();
        collect_spans(instruction, &mut spans);
        let start = spans.iter().map(|span| span.start).min()?;
        let mut end = spans.iter().map(|span| span.end).max()?;
        if here_doc_ends(instruction).contains(&end) {
            // A heredoc body's span stops before its terminator line, which still belongs to it.
            let rest = &self.text[self.bom_len + end..];
            end += rest.find(['\r', '\n']).unwrap_or(rest.len());
        }
        Some(self.range(&(start..end)))
    }

    /// Where a new line goes to stand before `instruction`: the start of its line, and the
    /// indentation that line has.
    pub fn line_before(&self, instruction: &Instruction<'_>) -> Option<(usize, &'a str)> {
        let start = self.instruction_range(instruction)?.start;
        let line_start = self.text[..start]
            .rfind('\n')
            .map_or(0, |newline| newline + 1);
        let line_start = line_start.max(self.bom_len);
        let indent = &self.text[line_start..start];
        let indent_len = indent.len() - indent.trim_start().len();
        Some((line_start, &indent[..indent_len]))
    }

    /// The start of the block of comment lines that ends at `line_start`, or `line_start` when
    /// the line above is not a comment (a blank line ends a block).
    fn comments_above(&self, line_start: usize) -> usize {
        let mut start = line_start;
        while start > self.bom_len {
            let above = &self.text[..start - 1];
            let above_start = above
                .rfind('\n')
                .map_or(0, |newline| newline + 1)
                .max(self.bom_len);
            let line = above[above_start..].trim_start_matches([' ', '\t']);
            if !line.starts_with('#') {
                break;
            }
            start = above_start;
        }
        start
    }

    /// Where a new line goes to stand after `instruction`: just past the line break that ends
    /// it, and whether a line break must be written first (an instruction on the last line of a
    /// file without a final newline).
    pub fn line_after(&self, instruction: &Instruction<'_>) -> Option<(usize, bool)> {
        let end = self.instruction_range(instruction)?.end;
        Some(match self.text[end..].find('\n') {
            Some(newline) => (end + newline + 1, false),
            None => (self.text.len(), true),
        })
    }

    /// An edit that inserts `line` (a whole instruction, without line break) on a new line
    /// before `instruction` and the comment lines directly above it (they belong to it:
    /// `# hadolint ignore=DL3008` must stay on the line before its `RUN`), with the
    /// instruction's indentation.
    pub fn insert_before(&self, instruction: &Instruction<'_>, line: &str) -> Option<Edit> {
        let (offset, indent) = self.line_before(instruction)?;
        let offset = self.comments_above(offset);
        Some(Edit::replace(
            offset..offset,
            format!("{indent}{line}{}", self.line_break()),
        ))
    }

    /// An edit that inserts `line` (a whole instruction, without line break) on a new line
    /// after `instruction`. After a heredoc's terminator a blank line comes first: hadolint
    /// (and with it many CI pipelines) rejects an instruction right after a terminator.
    pub fn insert_after(&self, instruction: &Instruction<'_>, line: &str) -> Option<Edit> {
        let (offset, needs_break) = self.line_after(instruction)?;
        let line_break = self.line_break();
        let blank = match here_doc_ends(instruction).is_empty() {
            true => "",
            false => line_break,
        };
        let text = match needs_break {
            true => format!("{line_break}{blank}{line}"),
            false => format!("{blank}{line}{line_break}"),
        };
        Some(Edit::replace(offset..offset, text))
    }

    /// The line break this file uses: CRLF when its first line ends with one.
    pub fn line_break(&self) -> &'static str {
        match self.text.find('\n') {
            Some(newline) if self.text[..newline].ends_with('\r') => "\r\n",
            _ => "\n",
        }
    }

    /// `keyword` in the case the file writes its keywords: lowercase when its first `FROM`
    /// is lowercase, else uppercase.
    pub fn keyword(&self, keyword: &str) -> String {
        let lowercase = self
            .instructions()
            .iter()
            .find_map(|instruction| match instruction {
                Instruction::From(from) => {
                    let range = self.range(&from.from.span);
                    self.text
                        .get(range)
                        .map(|word| word == word.to_ascii_lowercase())
                }
                _ => None,
            });
        match lowercase {
            Some(true) => keyword.to_ascii_lowercase(),
            _ => keyword.to_ascii_uppercase(),
        }
    }
}

/// The span of a command's arguments (`None` only for forms a newer parser may add).
fn command_span(command: &Command<'_>) -> Option<Range<usize>> {
    match command {
        Command::Exec(exec) => Some(exec.span.clone()),
        Command::Shell(shell) => Some(shell.span.clone()),
        _ => None,
    }
}

fn flag_spans(flags: &[Flag<'_>], spans: &mut Vec<Range<usize>>) {
    spans.extend(flags.iter().map(Flag::span));
}

/// Every span the parser reports for one instruction.
fn collect_spans(instruction: &Instruction<'_>, spans: &mut Vec<Range<usize>>) {
    match instruction {
        Instruction::Add(add) => {
            spans.push(add.add.span.clone());
            flag_spans(&add.options, spans);
            spans.extend(add.src.iter().filter_map(source_span));
            spans.push(add.dest.span.clone());
        }
        Instruction::Copy(copy) => {
            spans.push(copy.copy.span.clone());
            flag_spans(&copy.options, spans);
            spans.extend(copy.src.iter().filter_map(source_span));
            spans.push(copy.dest.span.clone());
        }
        Instruction::Arg(arg) => spans.extend([arg.arg.span.clone(), arg.arguments.span.clone()]),
        Instruction::Cmd(cmd) => {
            spans.push(cmd.cmd.span.clone());
            spans.extend(command_span(&cmd.arguments));
        }
        Instruction::Entrypoint(entrypoint) => {
            spans.push(entrypoint.entrypoint.span.clone());
            spans.extend(command_span(&entrypoint.arguments));
        }
        Instruction::Env(env) => spans.extend([env.env.span.clone(), env.arguments.span.clone()]),
        Instruction::Expose(expose) => {
            spans.push(expose.expose.span.clone());
            spans.extend(expose.arguments.iter().map(|port| port.span.clone()));
        }
        Instruction::From(from) => {
            spans.extend([from.from.span.clone(), from.image.span.clone()]);
            flag_spans(&from.options, spans);
            if let Some((keyword, name)) = &from.as_ {
                spans.extend([keyword.span.clone(), name.span.clone()]);
            }
        }
        Instruction::Healthcheck(healthcheck) => {
            spans.push(healthcheck.healthcheck.span.clone());
            flag_spans(&healthcheck.options, spans);
            match &healthcheck.arguments {
                HealthcheckArguments::Cmd { cmd, arguments, .. } => {
                    spans.push(cmd.span.clone());
                    spans.extend(command_span(arguments));
                }
                HealthcheckArguments::None { none, .. } => spans.push(none.span.clone()),
                _ => {}
            }
        }
        Instruction::Label(label) => {
            spans.extend([label.label.span.clone(), label.arguments.span.clone()]);
        }
        Instruction::Maintainer(maintainer) => spans.extend([
            maintainer.maintainer.span.clone(),
            maintainer.name.span.clone(),
        ]),
        Instruction::Onbuild(onbuild) => {
            spans.push(onbuild.onbuild.span.clone());
            collect_spans(&onbuild.instruction, spans);
        }
        Instruction::Run(run) => {
            spans.push(run.run.span.clone());
            spans.extend(command_span(&run.arguments));
            flag_spans(&run.options, spans);
            spans.extend(run.here_docs.iter().map(|here_doc| here_doc.span.clone()));
        }
        Instruction::Shell(shell) => {
            spans.push(shell.shell.span.clone());
            spans.extend(shell.arguments.iter().map(|argument| argument.span.clone()));
        }
        Instruction::Stopsignal(stop) => {
            spans.extend([stop.stopsignal.span.clone(), stop.arguments.span.clone()]);
        }
        Instruction::User(user) => {
            spans.extend([user.user.span.clone(), user.arguments.span.clone()])
        }
        Instruction::Volume(volume) => {
            spans.push(volume.volume.span.clone());
            match &volume.arguments {
                JsonOrStringArray::Json(json) => spans.push(json.span.clone()),
                JsonOrStringArray::String(paths) => {
                    spans.extend(paths.iter().map(|path| path.span.clone()));
                }
            }
        }
        Instruction::Workdir(workdir) => {
            spans.extend([workdir.workdir.span.clone(), workdir.arguments.span.clone()])
        }
        // An instruction kind a newer parser adds: no spans, so nothing is ever inserted at it.
        _ => {}
    }
}

/// Where the heredoc bodies of an instruction end (their terminator lines follow).
fn here_doc_ends(instruction: &Instruction<'_>) -> Vec<usize> {
    let sources = match instruction {
        Instruction::Run(run) => return run.here_docs.iter().map(|doc| doc.span.end).collect(),
        Instruction::Copy(copy) => &copy.src,
        Instruction::Add(add) => &add.src,
        Instruction::Onbuild(onbuild) => return here_doc_ends(&onbuild.instruction),
        _ => return Vec::new(),
    };
    sources
        .iter()
        .filter_map(|source| match source {
            parse_dockerfile::Source::HereDoc(doc) => Some(doc.span.end),
            _ => None,
        })
        .collect()
}

fn source_span(source: &parse_dockerfile::Source<'_>) -> Option<Range<usize>> {
    match source {
        parse_dockerfile::Source::Path(path) => Some(path.span.clone()),
        parse_dockerfile::Source::HereDoc(here_doc) => Some(here_doc.span.clone()),
        _ => None,
    }
}

/// The keyword of an instruction in upper case, for messages.
pub fn instruction_keyword(instruction: &Instruction<'_>) -> &'static str {
    match instruction {
        Instruction::Add(_) => "ADD",
        Instruction::Arg(_) => "ARG",
        Instruction::Cmd(_) => "CMD",
        Instruction::Copy(_) => "COPY",
        Instruction::Entrypoint(_) => "ENTRYPOINT",
        Instruction::Env(_) => "ENV",
        Instruction::Expose(_) => "EXPOSE",
        Instruction::From(_) => "FROM",
        Instruction::Healthcheck(_) => "HEALTHCHECK",
        Instruction::Label(_) => "LABEL",
        Instruction::Maintainer(_) => "MAINTAINER",
        Instruction::Onbuild(_) => "ONBUILD",
        Instruction::Run(_) => "RUN",
        Instruction::Shell(_) => "SHELL",
        Instruction::Stopsignal(_) => "STOPSIGNAL",
        Instruction::User(_) => "USER",
        Instruction::Volume(_) => "VOLUME",
        Instruction::Workdir(_) => "WORKDIR",
        _ => "this instruction",
    }
}

/// Split `A=1 B="two words" C` (the text of `ARG` or `ENV`) into declarations, honouring quotes.
pub fn split_declarations(token: Token<'_>) -> Vec<ArgDeclaration<'_>> {
    words(token)
        .into_iter()
        .filter_map(|word| {
            let Some(eq) = word.text.find('=') else {
                return Some(ArgDeclaration {
                    name: word.text,
                    default: None,
                });
            };
            let name = word.text.get(..eq).filter(|name| !name.is_empty())?;
            let value = word.slice(eq + 1..word.text.len())?;
            Some(ArgDeclaration {
                name,
                default: Some(value.unquoted()),
            })
        })
        .collect()
}

/// Whitespace-separated words of a token; whitespace inside quotes does not split.
fn words(token: Token<'_>) -> Vec<Token<'_>> {
    let mut words = Vec::new();
    let mut quote = None;
    let mut start = None;
    for (offset, ch) in token.text.char_indices() {
        match quote {
            Some(open) if ch == open => quote = None,
            Some(_) => {}
            None if ch == '"' || ch == '\'' => {
                quote = Some(ch);
                start.get_or_insert(offset);
            }
            None if ch.is_whitespace() => {
                if let Some(begin) = start.take() {
                    words.extend(token.slice(begin..offset));
                }
            }
            None => {
                start.get_or_insert(offset);
            }
        }
    }
    if let Some(begin) = start {
        words.extend(token.slice(begin..token.text.len()));
    }
    words
}

/// The value of `key=` in a comma-separated option such as `--mount=type=cache,from=x,target=/y`.
///
/// Returns `None` when the option uses CSV quoting, which a byte edit could break.
pub fn option_field<'a>(option: Token<'a>, key: &str) -> Option<Token<'a>> {
    if option.text.contains(['"', '\'']) {
        return None;
    }
    let mut offset = 0;
    for field in option.text.split(',') {
        if let Some((name, _)) = field.split_once('=')
            && name.eq_ignore_ascii_case(key)
        {
            return option.slice(offset + name.len() + 1..offset + field.len());
        }
        offset += field.len() + 1;
    }
    None
}

/// If `text` is exactly one variable reference (`$NAME` or `${NAME}`), its name.
pub fn whole_variable(text: &str) -> Option<&str> {
    let name = text
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .or_else(|| text.strip_prefix('$'))?;
    is_variable_name(name).then_some(name)
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// Build-argument defaults in scope at some point of a Dockerfile: name → default value.
#[derive(Debug, Clone, Default)]
pub struct ArgScope<'a> {
    defaults: HashMap<&'a str, Option<Token<'a>>>,
}

impl<'a> ArgScope<'a> {
    /// Record a declaration; a later one shadows an earlier one.
    pub fn declare(&mut self, declaration: &ArgDeclaration<'a>) {
        self.defaults.insert(declaration.name, declaration.default);
    }

    /// The default of `name`: `None` if undeclared, `Some(None)` if declared without default.
    pub fn get(&self, name: &str) -> Option<Option<Token<'a>>> {
        self.defaults.get(name).copied()
    }

    /// Expand `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}` and
    /// `${NAME+word}` with the declared defaults, as BuildKit does for `FROM`.
    ///
    /// Returns `None` when a variable has no known value (it could only come from
    /// `--build-arg`) or the syntax is not one of these forms.
    pub fn expand(&self, text: &str) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(dollar) = rest.find('$') {
            out.push_str(&rest[..dollar]);
            let after = &rest[dollar + 1..];
            let (value, consumed) = if let Some(braced) = after.strip_prefix('{') {
                let close = closing_brace(braced)?;
                (self.expand_braced(&braced[..close])?, close + 2)
            } else {
                let len = after
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(after.len());
                let name = &after[..len];
                if !is_variable_name(name) {
                    return None;
                }
                (self.value(name)?.to_owned(), len)
            };
            out.push_str(&value);
            rest = &after[consumed..];
        }
        out.push_str(rest);
        Some(out)
    }

    fn value(&self, name: &str) -> Option<&'a str> {
        self.get(name).flatten().map(|token| token.text)
    }

    fn expand_braced(&self, inner: &str) -> Option<String> {
        let name_len = inner
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
            .unwrap_or(inner.len());
        let (name, modifier) = inner.split_at(name_len);
        if !is_variable_name(name) {
            return None;
        }
        let value = self.value(name);
        let set_and_non_empty = value.is_some_and(|value| !value.is_empty());
        match modifier {
            "" => value.map(str::to_owned),
            _ if modifier.starts_with(":-") => match value {
                Some(value) if set_and_non_empty => Some(value.to_owned()),
                _ => self.expand(&modifier[2..]),
            },
            _ if modifier.starts_with(":+") => match set_and_non_empty {
                true => self.expand(&modifier[2..]),
                false if self.get(name).is_some() => Some(String::new()),
                false => None,
            },
            _ if modifier.starts_with('-') => match value {
                Some(value) => Some(value.to_owned()),
                None => self.expand(&modifier[1..]),
            },
            _ if modifier.starts_with('+') => match value {
                Some(_) => self.expand(&modifier[1..]),
                None => None,
            },
            _ => None,
        }
    }
}

/// A text with variables (`image-base-${TARGETARCH}`), read once to be matched against many
/// candidates. Lets a rule recognise a stage chosen by a platform variable.
#[derive(Debug, Clone)]
pub struct ExpansionPattern {
    /// The literal parts; more than one exactly when the text has a variable.
    literals: Vec<String>,
}

impl ExpansionPattern {
    /// `None` for an unterminated `${`, which expands to nothing.
    pub fn new(text: &str) -> Option<ExpansionPattern> {
        Some(ExpansionPattern {
            literals: literal_parts(text)?,
        })
    }

    /// The text before the first variable.
    pub fn prefix(&self) -> &str {
        self.literals.first().map_or("", String::as_str)
    }

    /// The text after the last variable.
    pub fn suffix(&self) -> &str {
        self.literals.last().map_or("", String::as_str)
    }

    /// Whether the text could expand to `candidate` for some values of its variables: its
    /// literal parts occur in `candidate` in order, anchored at both ends
    /// (`image-base-${TARGETARCH}` could be `image-base-amd64`).
    pub fn matches(&self, candidate: &str) -> bool {
        let (Some(first), Some(last)) = (self.literals.first(), self.literals.last()) else {
            return false;
        };
        if self.literals.len() == 1 {
            return first == candidate;
        }
        let Some(mut rest) = candidate.strip_prefix(first.as_str()) else {
            return false;
        };
        for middle in &self.literals[1..self.literals.len() - 1] {
            match rest.find(middle.as_str()) {
                Some(at) => rest = &rest[at + middle.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last.as_str())
    }
}

/// The literal text between variable references (`a${X}b$Y` → `["a", "b", ""]`); `None` for
/// an unterminated `${`.
fn literal_parts(text: &str) -> Option<Vec<String>> {
    let mut parts = vec![String::new()];
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        parts.last_mut()?.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let consumed = if let Some(braced) = after.strip_prefix('{') {
            closing_brace(braced)? + 2
        } else {
            after
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(after.len())
        };
        parts.push(String::new());
        rest = &after[consumed..];
    }
    parts.last_mut()?.push_str(rest);
    Some(parts)
}

/// The offset of the `}` that closes a `${` whose body starts `text`, counting nested braces.
fn closing_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (offset, byte) in text.bytes().enumerate() {
        match byte {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(offset),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_images(text: &str) -> Vec<(String, Range<usize>)> {
        let file = parse(text).expect("parses");
        file.instructions()
            .iter()
            .filter_map(|instruction| match instruction {
                Instruction::From(from) => {
                    Some((from.image.value.to_string(), file.range(&from.image.span)))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn ranges_index_the_original_text_after_a_bom() {
        let text = "\u{feff}FROM nginx:1.27\r\n";
        let images = from_images(text);
        assert_eq!(images.len(), 1);
        assert_eq!(&text[images[0].1.clone()], "nginx:1.27");
    }

    /// Found by the `dockerfile` fuzz target (docs/fuzzing.md): with two byte-order marks, this
    /// module stripped one and the parser the other, so every range was 3 bytes short. Docker
    /// strips one, as the parser does, and then fails on the second.
    #[test]
    fn a_second_byte_order_mark_is_not_stripped() {
        let error = parse("\u{feff}\u{feff}FROM node:20\nRUN x\n").expect_err("a stray BOM");
        assert_eq!(error.line, Some(1));
    }

    #[test]
    fn a_file_without_instructions_is_named_empty_or_only_comments() {
        for (text, message) in [
            ("", "no instructions (the file is empty)"),
            ("\u{feff}\n  \r\n", "no instructions (the file is empty)"),
            (
                "# syntax=docker/dockerfile:1\n\n  # FROM node\n",
                "no instructions (only comments and blank lines)",
            ),
        ] {
            let error = parse(text).expect_err("no instructions");
            assert_eq!((error.line, error.message.as_str()), (None, message));
        }
        // A missing FROM before a real instruction is the parser's own error.
        let error = parse("# c\nRUN x\n").expect_err("no FROM");
        assert!(!error.message.contains("no instructions"), "{error}");
    }

    #[test]
    fn here_documents_after_the_command_are_read() {
        // parse-dockerfile 0.1.9 took a heredoc only right after `RUN`; the vendored copy
        // takes one after the command too, as BuildKit does (vendor/parse-dockerfile/PATCHES.md).
        let text = "FROM a\nRUN cat <<EOF > /etc/x\nhello\nEOF\nRUN python3 <<-'PY'\n\tprint(1)\n\tPY\nRUN echo $((1<<2)) \"a <<b\" <<< c\nUSER x\n";
        let file = parse(text).expect("parses");
        let runs: Vec<(&str, Vec<&str>)> = file
            .instructions()
            .iter()
            .filter_map(|instruction| match instruction {
                Instruction::Run(run) => match &run.arguments {
                    Command::Shell(shell) => Some((
                        shell.value,
                        run.here_docs.iter().map(|doc| doc.value.as_ref()).collect(),
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(
            runs,
            [
                ("cat <<EOF > /etc/x", vec!["hello\n"]),
                ("python3 <<-'PY'", vec!["print(1)\n"]),
                ("echo $((1<<2)) \"a <<b\" <<< c", vec![]),
            ]
        );
        assert_eq!(file.instructions().len(), 5);
        // An escaped quote inside a quoted string does not end it: the `<<EOF` there is text,
        // and the instructions after it stay instructions.
        let quoted = "FROM a\nRUN echo \"x \\\" <<EOF \\\" y\"\nUSER node\nRUN <<EOF\nls\nEOF\n";
        assert_eq!(parse(quoted).expect("parses").instructions().len(), 4);
        // A comment line inside a continuation is dropped before the marker is looked for.
        let comment = "FROM a\nRUN echo \\\n# it's a note\n  && cat <<EOF > /x\nhi\nEOF\n";
        let file = parse(comment).expect("parses");
        let Some(Instruction::Run(run)) = file.instructions().get(1) else {
            panic!("a RUN");
        };
        assert_eq!(run.here_docs.len(), 1);
        // `a<<b` is no marker: it does not start a word.
        assert_eq!(
            parse("FROM a\nRUN echo a<<b\nUSER x\n")
                .expect("parses")
                .instructions()
                .len(),
            3
        );
    }

    #[test]
    fn empty_exec_form_entrypoint_and_cmd_are_read() {
        // `ENTRYPOINT []` clears the entrypoint; parse-dockerfile 0.1.9 rejected it (the
        // vendored copy accepts it: vendor/parse-dockerfile/PATCHES.md).
        let text = "FROM a\nENTRYPOINT []\nCMD [ ]\nHEALTHCHECK CMD [\"x\"]\n";
        let file = parse(text).expect("parses");
        let [
            _,
            Instruction::Entrypoint(entrypoint),
            Instruction::Cmd(cmd),
            _,
        ] = file.instructions()
        else {
            panic!("expected FROM, ENTRYPOINT, CMD, HEALTHCHECK");
        };
        for (command, written) in [(&entrypoint.arguments, "[]"), (&cmd.arguments, "[ ]")] {
            let Command::Exec(exec) = command else {
                panic!("exec form expected");
            };
            assert!(exec.value.is_empty());
            assert_eq!(&text[file.range(&exec.span)], written);
        }
        // Shell form with nothing to run stays an error, as in Docker.
        assert!(parse("FROM a\nENTRYPOINT\n").is_err());
    }

    #[test]
    fn parse_errors_carry_the_line() {
        let error = parse("FROM x\nFOO bar\n").expect_err("unknown instruction");
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("FOO"), "{}", error.message);
        let empty = parse("").expect_err("no FROM");
        assert_eq!(empty.line, None);
    }

    #[test]
    fn tokens_with_line_continuations_are_not_editable() {
        let text = "FROM node:20 AS a\nCOPY --from=no\\\nde /a /b\n";
        let file = parse(text).expect("parses");
        let Some(Instruction::Copy(copy)) = file.instructions().get(1) else {
            panic!("expected COPY");
        };
        assert_eq!(file.flag_value(&copy.options, "from"), None);
    }

    #[test]
    fn quoted_flag_values_are_unquoted() {
        let text = "FROM a\nCOPY --FROM=\"nginx:1\" a b\n";
        let file = parse(text).expect("parses");
        let Some(Instruction::Copy(copy)) = file.instructions().get(1) else {
            panic!("expected COPY");
        };
        let token = file.flag_value(&copy.options, "from").expect("flag");
        assert_eq!(token.text, "nginx:1");
        assert_eq!(&text[token.range()], "nginx:1");
    }

    #[test]
    fn arg_declarations_split_names_defaults_and_quotes() {
        let text = "ARG A=\"node:20\" B C='x y' D=\nFROM a\n";
        let file = parse(text).expect("parses");
        let Some(Instruction::Arg(arg)) = file.instructions().first() else {
            panic!("expected ARG");
        };
        let declarations = file.arg_declarations(arg);
        let summary: Vec<(&str, Option<&str>)> = declarations
            .iter()
            .map(|d| (d.name, d.default.map(|t| t.text)))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("A", Some("node:20")),
                ("B", None),
                ("C", Some("x y")),
                ("D", Some(""))
            ]
        );
        let a = declarations[0].default.expect("default");
        assert_eq!(&text[a.range()], "node:20");
    }

    #[test]
    fn option_field_finds_the_from_key() {
        let option = Token {
            text: "type=cache,from=node:20,target=/x",
            start: 10,
        };
        let from = option_field(option, "from").expect("field");
        assert_eq!(from.text, "node:20");
        assert_eq!(from.range(), 26..33);
        assert_eq!(option_field(option, "source"), None);
        let quoted = Token {
            text: "\"from=a,b\",target=/x",
            start: 0,
        };
        assert_eq!(option_field(quoted, "from"), None);
    }

    #[test]
    fn whole_variable_accepts_only_one_plain_reference() {
        assert_eq!(whole_variable("${BASE}"), Some("BASE"));
        assert_eq!(whole_variable("$BASE_1"), Some("BASE_1"));
        assert_eq!(whole_variable("${BASE}:1"), None);
        assert_eq!(whole_variable("${BASE:-x}"), None);
        assert_eq!(whole_variable("$1"), None);
        assert_eq!(whole_variable("node"), None);
    }

    fn scope<'a>(declarations: &[(&'a str, Option<&'a str>)]) -> ArgScope<'a> {
        let mut scope = ArgScope::default();
        for (name, default) in declarations {
            scope.declare(&ArgDeclaration {
                name,
                default: default.map(|text| Token { text, start: 0 }),
            });
        }
        scope
    }

    #[test]
    fn expand_substitutes_defaults_and_modifiers() {
        let scope = scope(&[
            ("V", Some("20")),
            ("E", Some("")),
            ("N", None),
            ("R", Some("docker.io")),
        ]);
        assert_eq!(
            scope.expand("node:${V}-alpine").as_deref(),
            Some("node:20-alpine")
        );
        assert_eq!(
            scope.expand("$R/node:$V").as_deref(),
            Some("docker.io/node:20")
        );
        assert_eq!(scope.expand("${E:-x}").as_deref(), Some("x"));
        assert_eq!(scope.expand("${E-x}").as_deref(), Some(""));
        assert_eq!(scope.expand("${U:-a/${V}}").as_deref(), Some("a/20"));
        assert_eq!(scope.expand("${V:+set}").as_deref(), Some("set"));
        assert_eq!(scope.expand("${N}"), None);
        assert_eq!(scope.expand("${U}"), None);
        assert_eq!(scope.expand("${V"), None);
        assert_eq!(scope.expand("${V%x}"), None);
    }

    #[test]
    fn instruction_ranges_cover_continuations_and_heredocs() {
        let text = "FROM a\nRUN <<EOF\necho\nEOF\n  COPY --chown=1:1 \\\n  x /y\nUSER 1";
        let file = parse(text).expect("parses");
        let ranges: Vec<&str> = file
            .instructions()
            .iter()
            .map(|instruction| &text[file.instruction_range(instruction).expect("range")])
            .collect();
        assert_eq!(
            ranges,
            [
                "FROM a",
                "RUN <<EOF\necho\nEOF",
                "COPY --chown=1:1 \\\n  x /y",
                "USER 1"
            ]
        );
        let copy = &file.instructions()[2];
        assert_eq!(
            file.line_before(copy),
            Some((text.find("  COPY").expect("copy"), "  "))
        );
        assert_eq!(
            file.line_after(copy),
            Some((text.find("USER").expect("user"), false))
        );
        let user = &file.instructions()[3];
        assert_eq!(file.line_after(user), Some((text.len(), true)));
    }

    #[test]
    fn inserted_lines_keep_indentation_line_breaks_and_a_missing_final_newline() {
        let text = "FROM a\r\n  RUN x\r\nCMD y";
        let file = parse(text).expect("parses");
        let run = &file.instructions()[1];
        let cmd = &file.instructions()[2];
        let before = file.insert_before(run, "USER root").expect("edit");
        assert_eq!(before, Edit::replace(8..8, "  USER root\r\n"));
        let after = file.insert_after(cmd, "USER 1000").expect("edit");
        assert_eq!(
            after,
            Edit::replace(text.len()..text.len(), "\r\nUSER 1000")
        );
        let middle = file.insert_after(run, "USER 1000").expect("edit");
        assert_eq!(middle.range.start, text.find("CMD").expect("cmd"));
    }

    #[test]
    fn line_break_and_keyword_case_follow_the_file() {
        let crlf = parse("from a\r\nrun x\r\n").expect("parses");
        assert_eq!(crlf.line_break(), "\r\n");
        assert_eq!(crlf.keyword("USER"), "user");
        let lf = parse("FROM a\nRUN x\n").expect("parses");
        assert_eq!(lf.line_break(), "\n");
        assert_eq!(lf.keyword("user"), "USER");
    }

    #[test]
    fn a_file_of_more_stages_than_the_limit_is_refused_at_the_first_one_past_it() {
        let text = |stages: usize| "FROM a\nRUN b\n".repeat(stages);
        assert!(parse(&text(MAX_STAGES)).is_ok());
        let error = parse(&text(MAX_STAGES + 1)).unwrap_err();
        assert_eq!(error.line, Some(2 * MAX_STAGES + 1));
        assert_eq!(
            error.message,
            "more than 5000 stages (hardport's per-file limit)"
        );
    }

    fn could_expand_to(text: &str, candidate: &str) -> bool {
        ExpansionPattern::new(text).is_some_and(|pattern| pattern.matches(candidate))
    }

    #[test]
    fn could_expand_to_matches_literal_parts_in_order() {
        assert!(could_expand_to(
            "image-base-${TARGETARCH}",
            "image-base-amd64"
        ));
        assert!(could_expand_to("${A}-build-$B", "x-build-y"));
        assert!(could_expand_to("stage", "stage"));
        assert!(!could_expand_to("stage", "stage2"));
        assert!(!could_expand_to("image-base-${TARGETARCH}", "builder"));
        assert!(!could_expand_to("a${X}b", "ab-c"));
        assert!(!could_expand_to("${X", "x"));
    }

    #[test]
    fn later_declarations_shadow_earlier_ones() {
        let scope = scope(&[("V", Some("1")), ("V", Some("2"))]);
        assert_eq!(scope.expand("$V").as_deref(), Some("2"));
    }
}
