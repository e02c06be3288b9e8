//! The one reader of shell text: every rule that looks inside a `RUN` reads it through here, so
//! they all split a command the same way.
//!
//! It is a lexer, not a shell: enough to find the commands a script runs, their words and where
//! each word is in the text, never to run anything. Quotes and backslash escapes are honoured;
//! line continuations are joined as the Dockerfile builder joins them (a `\` followed by blanks
//! continues the line; blank and comment lines after it are dropped), also in heredoc and
//! `sh -c` text, where a shell would not drop them; comments are dropped. `;`, `&&`, `||`, `|`,
//! `&`, newlines, parentheses, `$(` and backquotes separate commands (a substitution is read as
//! a command of its own; one inside double quotes stays part of its word). Output redirections
//! name the files a command writes. It never fails: odd input gives odd words, which no rule
//! recognises. [`run`] reads a Dockerfile `RUN` with it: shell form, exec form, `sh -c` scripts
//! and heredoc scripts, with every word's range in the file where its bytes are the word.

pub mod run;

use std::ops::Range;

use crate::rules::basename;

/// One shell word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as the shell passes it on: quotes and escapes removed, `$VAR` as written.
    pub text: String,
    /// Where the word's raw bytes (quotes included) are: in the text read by [`tokenize`], and
    /// in the file for words [`run`] gives, `None` when the word's text is not in the file as is
    /// (a heredoc that could not be placed, a script inside an escaped string).
    pub range: Option<Range<usize>>,
    /// Some of it was quoted or escaped: never a command name hardport recognises.
    pub quoted: bool,
    /// `NAME=value` with an unquoted name: an assignment when it precedes a command.
    pub assignment: bool,
    /// It expands something at run time (`$` outside single quotes): its value is unknown here.
    pub expands: bool,
    /// The first unquoted character that makes the shell expand the word as a pattern (`*`,
    /// `?`, `[`, `]`, `{`, `}`, `~`, `!`), if any.
    pub pattern: Option<char>,
    /// A quote in it is never closed.
    pub unterminated: bool,
}

impl Word {
    /// A word from a JSON array element (exec form), which no shell reads.
    pub fn literal(text: String, range: Option<Range<usize>>) -> Self {
        Word {
            text,
            range,
            quoted: false,
            assignment: false,
            expands: false,
            pattern: None,
            unterminated: false,
        }
    }

    /// The range of `source` (the text the word's range indexes) that holds exactly the
    /// word's text: the whole word, or what is inside its quotes (`'node:node'`), so an edit
    /// there keeps the quoting; `None` when quote removal changed more than that.
    pub fn text_range(&self, source: &str) -> Option<Range<usize>> {
        let range = self.range.clone()?;
        let raw = source.get(range.clone())?;
        if raw == self.text {
            return Some(range);
        }
        // Inside the quotes only when the word is one quoted string (`\\node\\` is not).
        let quoted = ['"', '\'']
            .into_iter()
            .any(|quote| raw.len() >= 2 && raw.starts_with(quote) && raw.ends_with(quote));
        let inner = range.start + 1..range.end - 1;
        (quoted && source.get(inner.clone()) == Some(self.text.as_str())).then_some(inner)
    }
}

/// A lexical token of shell text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Word(Word),
    /// Between two simple commands: `;`, `&&`, `||`, `|`, `&`, a newline, `(`, `)`, `$(`, `` ` ``.
    Separator,
    /// An output redirection (`>`, `>>`, `&>`, `2>`): the next word is a file the command writes.
    Redirect,
    /// An input redirection (`<`, `<<`, `<<<`): the next word is no argument.
    Input,
}

/// Split shell text into tokens.
pub fn tokenize(text: &str) -> Vec<Token> {
    Lexer {
        text,
        position: 0,
        tokens: Vec::new(),
        word: None,
    }
    .run()
}

struct Lexer<'t> {
    text: &'t str,
    position: usize,
    tokens: Vec<Token>,
    word: Option<Word>,
}

impl Lexer<'_> {
    fn run(mut self) -> Vec<Token> {
        while let Some(ch) = self.next() {
            let start = self.position - ch.len_utf8();
            match ch {
                '\\' => self.escape(start),
                '\'' => self.single_quoted(start),
                '"' => self.double_quoted(start),
                '#' if self.word.is_none() => self.comment(),
                ' ' | '\t' | '\r' => self.finish(),
                '$' if self.peek() == Some('(') => {
                    self.next();
                    self.separator();
                }
                '\n' | ';' | '|' | '(' | ')' | '`' => self.separator(),
                '&' if self.peek() == Some('>') => {
                    self.finish();
                    self.skip_while(|next| next == '>');
                    self.tokens.push(Token::Redirect);
                }
                '&' => self.separator(),
                '>' => self.output(),
                '<' => self.input(),
                '=' => {
                    let word = self.word(start);
                    if !word.quoted && !word.assignment && is_identifier(&word.text) {
                        word.assignment = true;
                    }
                    self.push('=');
                }
                '$' => {
                    self.word(start).expands = true;
                    self.push('$');
                }
                ch => {
                    let word = self.word(start);
                    if PATTERN_CHARACTERS.contains(ch) && word.pattern.is_none() {
                        word.pattern = Some(ch);
                    }
                    self.push(ch);
                }
            }
        }
        self.finish();
        self.tokens
    }

    fn next(&mut self) -> Option<char> {
        let ch = self.text.get(self.position..)?.chars().next()?;
        self.position += ch.len_utf8();
        Some(ch)
    }

    fn peek(&self) -> Option<char> {
        self.text.get(self.position..)?.chars().next()
    }

    fn skip_while(&mut self, mut keep: impl FnMut(char) -> bool) {
        while self.peek().is_some_and(&mut keep) {
            self.next();
        }
    }

    /// The word being read, started at `start` if there is none.
    fn word(&mut self, start: usize) -> &mut Word {
        self.word.get_or_insert_with(|| Word {
            text: String::new(),
            range: Some(start..start),
            quoted: false,
            assignment: false,
            expands: false,
            pattern: None,
            unterminated: false,
        })
    }

    /// Append to the word being read, which ends at the current position.
    fn push(&mut self, ch: char) {
        let end = self.position;
        if let Some(word) = self.word.as_mut() {
            word.text.push(ch);
            if let Some(range) = word.range.as_mut() {
                range.end = end;
            }
        }
    }

    fn quoted_word(&mut self, start: usize) {
        self.word(start).quoted = true;
        self.extend_to_here();
    }

    fn extend_to_here(&mut self) {
        let end = self.position;
        if let Some(range) = self.word.as_mut().and_then(|word| word.range.as_mut()) {
            range.end = end;
        }
    }

    fn finish(&mut self) {
        if let Some(word) = self.word.take() {
            self.tokens.push(Token::Word(word));
        }
    }

    fn separator(&mut self) {
        self.finish();
        if self.tokens.last() != Some(&Token::Separator) {
            self.tokens.push(Token::Separator);
        }
    }

    fn escape(&mut self, start: usize) {
        let rest = self.text.get(self.position..).unwrap_or_default();
        if let Some(newline) = rest.find('\n')
            && rest[..newline].trim_matches([' ', '\t', '\r']).is_empty()
        {
            self.position += newline + 1;
            self.skip_continued_lines();
            return;
        }
        if let Some(escaped) = self.next() {
            self.quoted_word(start);
            self.push(escaped);
        }
    }

    /// After a line continuation, the builder drops blank lines and comment lines before the
    /// line that continues the instruction.
    fn skip_continued_lines(&mut self) {
        while let Some(rest) = self.text.get(self.position..)
            && let Some(newline) = rest.find('\n')
        {
            let line = rest[..newline].trim_start_matches([' ', '\t']);
            if !(line.trim_end_matches('\r').is_empty() || line.starts_with('#')) {
                break;
            }
            self.position += newline + 1;
        }
    }

    fn single_quoted(&mut self, start: usize) {
        self.quoted_word(start);
        loop {
            match self.next() {
                Some('\'') => break,
                Some(ch) => self.push(ch),
                None => return self.unterminated(),
            }
        }
        self.extend_to_here();
    }

    fn unterminated(&mut self) {
        if let Some(word) = self.word.as_mut() {
            word.unterminated = true;
        }
        self.extend_to_here();
    }

    fn double_quoted(&mut self, start: usize) {
        self.quoted_word(start);
        loop {
            let Some(ch) = self.next() else {
                return self.unterminated();
            };
            match ch {
                '"' => break,
                '\\' => match self.next() {
                    Some('\n') | None => {}
                    Some('\r') if self.peek() == Some('\n') => {
                        self.next();
                    }
                    Some(escaped @ ('"' | '\\' | '$' | '`')) => self.push(escaped),
                    Some(other) => {
                        self.push('\\');
                        self.push(other);
                    }
                },
                '$' | '`' => {
                    self.word(start).expands = true;
                    self.push(ch);
                }
                ch => self.push(ch),
            }
        }
        self.extend_to_here();
    }

    fn comment(&mut self) {
        self.skip_while(|next| next != '\n');
    }

    fn output(&mut self) {
        let descriptor = self.word.as_ref().is_some_and(|word| {
            !word.quoted && word.text.bytes().all(|byte| byte.is_ascii_digit())
        });
        if descriptor {
            // `2>file`: the digits name a file descriptor, not a word.
            self.word = None;
        } else {
            self.finish();
        }
        self.skip_while(|next| next == '>' || next == '|');
        if self.peek() == Some('&') {
            // `>&2`, `2>&1`: a duplicated descriptor, no file.
            self.next();
            self.skip_while(|next| next.is_ascii_digit() || next == '-');
            return;
        }
        self.tokens.push(Token::Redirect);
    }

    fn input(&mut self) {
        self.finish();
        self.skip_while(|next| next == '<' || next == '-');
        if self.peek() == Some('&') {
            self.next();
            self.skip_while(|next| next.is_ascii_digit() || next == '-');
            return;
        }
        self.tokens.push(Token::Input);
    }
}

/// Characters that make the shell expand an unquoted word as a pattern (globs, braces, tilde,
/// history).
const PATTERN_CHARACTERS: &str = "*?[]{}~!";

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// One simple command: its words as written, and the files its output redirections write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleCommand {
    pub words: Vec<Word>,
    pub writes: Vec<Word>,
}

/// Words a shell reads as syntax before a command, not as the command.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time",
];

/// Programs that run the command their arguments name, with the options that take a value.
const WRAPPERS: &[(&str, &[&str])] = &[
    (
        "sudo",
        &["-u", "-g", "-C", "-D", "-h", "-p", "-U", "-r", "-t"],
    ),
    ("doas", &["-u", "-C"]),
    ("env", &["-u", "-C", "-S", "--unset", "--chdir"]),
    ("exec", &["-a"]),
    ("command", &[]),
    ("nohup", &[]),
    ("nice", &["-n"]),
    ("xargs", &["-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a"]),
    ("stdbuf", &["-i", "-o", "-e"]),
];

/// Programs that run the command after their first argument as that user.
pub const USER_SWITCHERS: &[&str] = &["gosu", "su-exec"];

impl SimpleCommand {
    /// The words from the program on: shell keywords, assignments and wrappers (`sudo -u x`,
    /// `env A=b`, `exec`, `gosu user`, …) before it are skipped.
    pub fn argv(&self) -> &[Word] {
        self.walk().1
    }

    /// The `gosu USER …` or `su-exec USER …` wrapper that runs the program, and its user.
    pub fn switched_user(&self) -> Option<(&Word, &Word)> {
        self.walk().0
    }

    /// The last user switch before the program, and the words from the program on.
    fn walk(&self) -> (Option<(&Word, &Word)>, &[Word]) {
        let mut switched = None;
        let mut rest = self.words.as_slice();
        while let Some((first, tail)) = rest.split_first() {
            if first.assignment || (!first.quoted && KEYWORDS.contains(&first.text.as_str())) {
                rest = tail;
                continue;
            }
            let name = basename(&first.text);
            if !first.quoted && USER_SWITCHERS.contains(&name) {
                // `gosu USER command…`: the user, then the command.
                // `gosu --version` names no user.
                switched = tail
                    .first()
                    .filter(|user| !user.text.starts_with('-'))
                    .map(|user| (first, user))
                    .or(switched);
                rest = tail.get(1..).unwrap_or_default();
                continue;
            }
            if name == "command"
                && tail
                    .first()
                    .is_some_and(|word| word.text.starts_with("-v") || word.text.starts_with("-V"))
            {
                // `command -v NAME` looks the name up; it runs nothing.
                return (switched, &[]);
            }
            let Some((_, with_value)) = WRAPPERS
                .iter()
                .find(|(wrapper, _)| *wrapper == name && !first.quoted)
            else {
                break;
            };
            rest = skip_options(tail, with_value, name == "env");
        }
        (switched, rest)
    }

    /// The program the command runs, by its name (`/usr/bin/apt-get` → `apt-get`), unless it
    /// was quoted or escaped (a shell would run it, but hardport does not guess at it).
    pub fn program(&self) -> Option<&str> {
        self.argv()
            .first()
            .filter(|word| !word.quoted && !word.expands)
            .map(|word| basename(&word.text))
    }
}

/// The words after a wrapper's options (and, for `env`, its assignments).
fn skip_options<'w>(words: &'w [Word], with_value: &[&str], assignments: bool) -> &'w [Word] {
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        if first.text == "--" {
            return tail;
        }
        let option = first.text.starts_with('-') && first.text.len() > 1;
        let assignment = assignments && first.text.contains('=');
        if !(option || assignment) {
            break;
        }
        rest = match with_value.contains(&first.text.as_str()) {
            true => tail.get(1..).unwrap_or_default(),
            false => tail,
        };
    }
    rest
}

/// The simple commands of a script, in order.
pub fn simple_commands(script: &str) -> Vec<SimpleCommand> {
    let mut commands = Vec::new();
    let mut command = SimpleCommand::default();
    let mut tokens = tokenize(script).into_iter().peekable();
    let next_word = |tokens: &mut std::iter::Peekable<std::vec::IntoIter<Token>>| {
        // `>(cmd)`, `> $(mktemp)`: a separator after the operator starts a command of its own.
        match tokens.next_if(|token| matches!(token, Token::Word(_))) {
            Some(Token::Word(word)) => Some(word),
            _ => None,
        }
    };
    while let Some(token) = tokens.next() {
        match token {
            Token::Word(word) => command.words.push(word),
            Token::Redirect => command.writes.extend(next_word(&mut tokens)),
            Token::Input => {
                let _ = next_word(&mut tokens);
            }
            Token::Separator => {
                if command != SimpleCommand::default() {
                    commands.push(std::mem::take(&mut command));
                }
            }
        }
    }
    if command != SimpleCommand::default() {
        commands.push(command);
    }
    commands
}

#[cfg(test)]
mod tests;
